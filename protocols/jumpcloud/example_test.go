package jumpcloud_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
)

// TestExampleTOML parses example.toml with every setting uncommented, and rejects bad values.
func TestExampleTOML(t *testing.T) {
	raw, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^#\s?(\[\[?[a-z_.]+\]\]?\s*$|[a-z_][a-z0-9_]*\s*=)`)
	var b strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if setting.MatchString(line) {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		b.WriteString(line + "\n")
	}
	reg := protocols.NewRegistry()
	reg.Register(jumpcloud.Protocol())
	cfg, err := config.Parse([]byte(b.String()), "example.toml", reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 1 {
		t.Fatalf("servers = %d", len(cfg.Servers))
	}
	o := cfg.Servers[0].Options.(*jumpcloud.Options)
	if o.Description != "summary" || len(o.SystemGroups) != 1 || len(o.Users) != 1 || !o.Users[0].Sudo || o.OnShutdown != "none" || o.ShutdownTimeout.D() != 20*time.Second || !o.Attributes {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range []string{
		`system_groups = ["admins"]`, `users = [{ id = "bob" }]`, `on_shutdown = "reboot"`, `shutdown_timeout = "1h"`,
		`display_name = "{{.Hostname"`, `users = [{ id = "5f0c1b2a3d4e5f6a7b8c9d0f", sudo_without_password = true }]`,
		`tags = [""]`, `jc_key = "x"`,
	} {
		_, err := config.Parse([]byte("[[server]]\nname = \"j\"\nprotocol = \"jumpcloud\"\n"+bad+"\n"), "bad.toml", reg)
		if err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
