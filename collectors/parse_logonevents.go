package collectors

import (
	"sort"
	"strings"

	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/inventory"
)

// logonEventQuery selects interactive logons from the Security log: event 4624 with logon type
// 2 (console), 10 (Remote Desktop) or 11 (cached domain credentials).
const logonEventQuery = "*[System[(EventID=4624)] and EventData[Data[@Name='LogonType']='2' or " +
	"Data[@Name='LogonType']='10' or Data[@Name='LogonType']='11']]"

// loginsFromLogonEvents turns Security 4624 events into logins, oldest first. It drops the
// logons Windows makes for itself (Window Manager, Font Driver Host, machine accounts) and the
// second event of an administrator's split-token logon (same user, same instant).
func loginsFromLogonEvents(evs []eventlog.Event) []inventory.Login {
	var out []inventory.Login
	seen := map[string]bool{}
	for _, ev := range evs {
		d := ev.Data
		user, domain := strings.TrimSpace(d["TargetUserName"]), strings.TrimSpace(d["TargetDomainName"])
		if user == "" || user == "-" || strings.HasSuffix(user, "$") {
			continue
		}
		switch domain {
		case "Window Manager", "Font Driver Host", "NT AUTHORITY", "NT-AUTORITÄT", "AUTORITE NT":
			continue
		}
		name := user
		if domain != "" && domain != "-" {
			name = domain + `\` + user
		}
		key := strings.ToLower(name) + "|" + ev.Timestamp.Truncate(1e9).String()
		if seen[key] {
			continue
		}
		seen[key] = true
		l := inventory.Login{User: name, Time: ev.Timestamp.UTC()}
		switch d["LogonType"] {
		case "2":
			l.Console = "console"
		case "10":
			l.Console = "rdp"
		case "11":
			l.Console = "cached"
		}
		if ip := strings.TrimSpace(d["IpAddress"]); ip != "" && ip != "-" && ip != "127.0.0.1" && ip != "::1" {
			l.Remote = ip
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
