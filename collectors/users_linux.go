package collectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectUsers reads local accounts and groups from /etc/passwd and /etc/group. The shadow
// file is never read: no password data leaves the machine.
func collectUsers(_ context.Context, inv *inventory.Inventory) error {
	pw, err := readFile("/etc/passwd")
	if err != nil {
		return fmt.Errorf("read passwd: %w", err)
	}
	gr, _ := readFile("/etc/group")
	uidMin := 1000
	if defs, err := readFile("/etc/login.defs"); err == nil {
		uidMin = LoginDefsUIDMin(defs, uidMin)
	}
	inv.Users, inv.Groups = ParsePasswd(pw, gr, uidMin)
	return nil
}

// LoginDefsUIDMin reads UID_MIN from login.defs.
func LoginDefsUIDMin(b []byte, def int) int {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "UID_MIN" {
			if n, err := strconv.Atoi(f[1]); err == nil {
				return n
			}
		}
	}
	return def
}

// ParsePasswd decodes passwd and group files; each user gets its primary and supplementary
// group names. Accounts below uidMin (or nobody) are system accounts.
func ParsePasswd(passwd, group []byte, uidMin int) ([]inventory.User, []inventory.Group) {
	var groups []inventory.Group
	gidName := map[string]string{}
	memberOf := map[string][]string{}
	for line := range strings.Lines(string(group)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), ":")
		if len(f) < 4 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") {
			continue
		}
		g := inventory.Group{Name: f[0], GID: f[2]}
		for m := range strings.SplitSeq(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
				memberOf[m] = append(memberOf[m], f[0])
			}
		}
		gidName[f[2]] = f[0]
		groups = append(groups, g)
	}
	var users []inventory.User
	for line := range strings.Lines(string(passwd)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), ":")
		if len(f) < 7 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") {
			continue
		}
		full, _, _ := strings.Cut(f[4], ",") // GECOS: full name, room, phones...
		u := inventory.User{Name: f[0], UID: f[2], GID: f[3], FullName: full, Home: f[5], Shell: f[6]}
		uid, err := strconv.Atoi(f[2])
		u.System = err != nil || uid < uidMin || uid == 65534
		if n := gidName[f[3]]; n != "" {
			u.Groups = append(u.Groups, n)
		}
		for _, g := range memberOf[f[0]] {
			if g != gidName[f[3]] {
				u.Groups = append(u.Groups, g)
			}
		}
		users = append(users, u)
	}
	return users, groups
}
