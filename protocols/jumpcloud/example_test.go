package jumpcloud_test

import (
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
)

// TestExampleTOML checks the protocol's section of agent.toml.example, every setting uncommented, and rejects bad values.
func TestExampleTOML(t *testing.T) {
	reg := protocols.NewRegistry()
	reg.Register(jumpcloud.Protocol())
	o := configtest.ExampleServer(t, all.Registry(), "jumpcloud").Options.(*jumpcloud.Options)
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
