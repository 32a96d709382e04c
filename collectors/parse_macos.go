package collectors

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// macOS files read without spawning tools. No build tag: tested on every OS from testdata.

// macOSFromSystemVersion reads /System/Library/CoreServices/SystemVersion.plist.
func macOSFromSystemVersion(b []byte) (inventory.OS, error) {
	m, err := plistDict(b)
	if err != nil {
		return inventory.OS{}, fmt.Errorf("SystemVersion.plist: %w", err)
	}
	o := inventory.OS{
		Family:     "darwin",
		KernelName: "darwin",
		Name:       plistString(m, "ProductName"),
		Version:    firstNonEmpty(plistString(m, "ProductUserVisibleVersion"), plistString(m, "ProductVersion")),
		Build:      plistString(m, "ProductBuildVersion"),
	}
	if o.Name == "" || o.Version == "" {
		return o, errors.New("SystemVersion.plist: no ProductName or ProductVersion")
	}
	o.VersionMajor, _, _ = strings.Cut(o.Version, ".")
	o.Codename = macOSCodename(o.Version)
	o.FullName = strings.TrimSpace(o.Name + " " + o.Codename + " " + o.Version)
	return o, nil
}

// macOSCodename names the release by its major version.
func macOSCodename(version string) string {
	major, _, _ := strings.Cut(version, ".")
	return map[string]string{
		"11": "Big Sur", "12": "Monterey", "13": "Ventura", "14": "Sonoma", "15": "Sequoia", "26": "Tahoe",
	}[major]
}

// softwareFromReceipts reads the package receipts in dir (/var/db/receipts/*.plist): what
// `pkgutil --pkgs` lists, with version and install date, without running pkgutil.
func softwareFromReceipts(fsys fs.FS) ([]inventory.Software, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("package receipts: %w", err)
	}
	var out []inventory.Software
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".plist") {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			continue
		}
		m, err := plistDict(b)
		if err != nil {
			continue
		}
		id := plistString(m, "PackageIdentifier")
		if id == "" {
			continue
		}
		s := inventory.Software{
			Name:    id,
			Version: plistString(m, "PackageVersion"),
			Source:  "pkgutil",
			GUID:    id,
		}
		if t, ok := m["InstallDate"].(time.Time); ok {
			s.InstallDate = t.UTC()
		}
		if p := plistString(m, "InstallPrefixPath"); p != "" && p != "/" {
			s.InstallPath = "/" + strings.TrimPrefix(p, "/")
		}
		if strings.HasPrefix(id, "com.apple.") {
			s.Publisher = "Apple Inc."
			s.System = true
		}
		out = append(out, s)
	}
	sortSoftware(out)
	return out, nil
}

// usersFromDSLocal reads the local directory's records (/var/db/dslocal/nodes/Default/users and
// groups, root-only): the same data `dscl . -readall /Users` prints, without spawning dscl.
func usersFromDSLocal(usersFS, groupsFS fs.FS) ([]inventory.User, []inventory.Group, error) {
	userRecs, err := dslocalRecords(usersFS)
	if err != nil {
		return nil, nil, fmt.Errorf("local users: %w", err)
	}
	groupRecs, gerr := dslocalRecords(groupsFS)
	users, groups := usersFromDirectoryRecords(userRecs, groupRecs)
	if gerr != nil {
		return users, groups, fmt.Errorf("local groups: %w", gerr)
	}
	return users, groups, nil
}

// dsclAttrs maps the dscl attribute names to the dslocal record keys.
var dsclAttrs = pairs{
	{"dsAttrTypeStandard:RecordName", "name"}, {"dsAttrTypeStandard:UniqueID", "uid"},
	{"dsAttrTypeStandard:PrimaryGroupID", "gid"}, {"dsAttrTypeStandard:RealName", "realname"},
	{"dsAttrTypeStandard:NFSHomeDirectory", "home"}, {"dsAttrTypeStandard:UserShell", "shell"},
	{"dsAttrTypeStandard:GroupMembership", "users"},
}

// dsclUserAttrs and dsclGroupAttrs are the attributes asked of `dscl -plist . -readall`.
var (
	dsclUserAttrs  = []string{"RecordName", "UniqueID", "PrimaryGroupID", "RealName", "NFSHomeDirectory", "UserShell"}
	dsclGroupAttrs = []string{"RecordName", "PrimaryGroupID", "RealName", "GroupMembership"}
)

// dsclRecords reads `dscl -plist . -readall /Users|/Groups …` output (an XML plist array of
// dictionaries keyed dsAttrTypeStandard:…) into dslocal-shaped records.
func dsclRecords(b []byte) ([]map[string]any, error) {
	v, err := parsePlist(b)
	if err != nil {
		return nil, fmt.Errorf("dscl output: %w", err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("dscl output: top object is %T, want an array", v)
	}
	var out []map[string]any
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		rec := map[string]any{}
		for k, v := range m {
			if name, ok := dsclAttrs.get(k); ok {
				rec[name] = v
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// usersFromDirectoryRecords builds users and groups from dslocal-shaped records (every
// attribute an array of strings). Accounts whose name starts with "_" and uids below 500 are
// system accounts.
func usersFromDirectoryRecords(userRecs, groupRecs []map[string]any) ([]inventory.User, []inventory.Group) {
	var groups []inventory.Group
	memberOf := map[string][]string{}
	gidName := map[string]string{}
	for _, g := range groupRecs {
		grp := inventory.Group{Name: plistString(g, "name"), GID: plistString(g, "gid"), Members: plistStrings(g, "users")}
		if grp.Name == "" {
			continue
		}
		groups = append(groups, grp)
		gidName[grp.GID] = grp.Name
		for _, m := range grp.Members {
			memberOf[m] = append(memberOf[m], grp.Name)
		}
	}
	var users []inventory.User
	for _, r := range userRecs {
		u := inventory.User{
			Name:     plistString(r, "name"),
			UID:      plistString(r, "uid"),
			GID:      plistString(r, "gid"),
			FullName: plistString(r, "realname"),
			Home:     plistString(r, "home"),
			Shell:    plistString(r, "shell"),
		}
		if u.Name == "" {
			continue
		}
		uid, err := strconv.Atoi(u.UID)
		u.System = strings.HasPrefix(u.Name, "_") || err != nil || uid < 500
		u.Disabled = u.Shell == "/usr/bin/false" && !u.System
		if primary := gidName[u.GID]; primary != "" {
			u.Groups = append(u.Groups, primary)
		}
		for _, g := range memberOf[u.Name] {
			if g != gidName[u.GID] {
				u.Groups = append(u.Groups, g)
			}
		}
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return users, groups
}

func dslocalRecords(fsys fs.FS) ([]map[string]any, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".plist" {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			continue
		}
		if m, err := plistDict(b); err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}
