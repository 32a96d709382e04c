package collectors

import (
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/lazyre"
	"github.com/omniagent/omniagent/limitread"
)

// Remote-management tools keep the id a technician dials in small config files; reading them
// replaces running each tool's own CLI (teamviewer --info, anydesk --get-id, rustdesk --get-id).

// remoteConfig is one file to look for and how to read the id from it.
type remoteConfig struct {
	Type  string
	Glob  string // may contain * (per-user folders)
	Parse func([]byte) (id, version string)
}

// readRemoteMgmt reads every config found under root (a prefix for tests; "" on a real system).
func readRemoteMgmt(root string, configs []remoteConfig) []inventory.RemoteMgmt {
	var out []inventory.RemoteMgmt
	seen := map[string]bool{}
	for _, c := range configs {
		matches, _ := filepath.Glob(filepath.Join(root, c.Glob))
		for _, m := range matches {
			b, err := limitread.File(m, 1<<20)
			if err != nil {
				continue
			}
			id, ver := c.Parse(b)
			if id == "" || seen[c.Type+id] {
				continue
			}
			seen[c.Type+id] = true
			out = append(out, inventory.RemoteMgmt{Type: c.Type, ID: id, Version: ver})
		}
	}
	return out
}

var (
	tvClientID = &lazyre.Regexp{Expr: `(?m)^\s*\[int32\]\s*ClientID\s*=\s*(\d+)`}
	tvVersion  = &lazyre.Regexp{Expr: `(?m)^\s*\[strng\]\s*Version\s*=\s*"([^"]+)"`}
)

// ParseTeamViewerConf reads TeamViewer's global.conf ("[int32] ClientID = 123456789").
func ParseTeamViewerConf(b []byte) (id, version string) {
	if m := tvClientID.Get().FindSubmatch(b); m != nil {
		id = string(m[1])
	}
	if m := tvVersion.Get().FindSubmatch(b); m != nil {
		version = string(m[1])
	}
	return id, version
}

// ParseAnyDeskConf reads AnyDesk's system.conf ("ad.anynet.id=123456789").
func ParseAnyDeskConf(b []byte) (id, version string) {
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ad.anynet.id="); ok {
			return strings.TrimSpace(v), ""
		}
	}
	return "", ""
}

var rustdeskID = &lazyre.Regexp{Expr: `(?m)^\s*id\s*=\s*['"]([^'"]+)['"]`}

// ParseRustDeskToml reads RustDesk.toml ("id = '123456789'"); an id kept only encrypted
// (enc_id) is not reported.
func ParseRustDeskToml(b []byte) (id, version string) {
	if m := rustdeskID.Get().FindSubmatch(b); m != nil {
		id = strings.TrimSpace(string(m[1]))
	}
	return id, ""
}

// linuxRemoteConfigs are the Linux locations (services run as root, so their config is root's).
var linuxRemoteConfigs = []remoteConfig{
	{Type: "teamviewer", Glob: "etc/teamviewer/global.conf", Parse: ParseTeamViewerConf},
	{Type: "teamviewer", Glob: "opt/teamviewer/config/global.conf", Parse: ParseTeamViewerConf},
	{Type: "anydesk", Glob: "etc/anydesk/system.conf", Parse: ParseAnyDeskConf},
	{Type: "rustdesk", Glob: "root/.config/rustdesk/RustDesk.toml", Parse: ParseRustDeskToml},
	{Type: "rustdesk", Glob: "home/*/.config/rustdesk/RustDesk.toml", Parse: ParseRustDeskToml},
}

// darwinRemoteConfigs are the macOS locations.
var darwinRemoteConfigs = []remoteConfig{
	{Type: "anydesk", Glob: "Library/Application Support/AnyDesk/system.conf", Parse: ParseAnyDeskConf},
	{Type: "rustdesk", Glob: "var/root/Library/Preferences/com.carriez.RustDesk/RustDesk.toml", Parse: ParseRustDeskToml},
	{Type: "rustdesk", Glob: "Users/*/Library/Preferences/com.carriez.RustDesk/RustDesk.toml", Parse: ParseRustDeskToml},
}
