package rdfm_test

import (
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
	"github.com/omniagent/omniagent/protocols/rdfm"
)

// TestExampleTOML checks the protocol's section of agent.toml.example, every setting uncommented.
func TestExampleTOML(t *testing.T) {
	reg := protocols.NewRegistry()
	reg.Register(rdfm.Protocol())
	o := configtest.ExampleServer(t, all.Registry(), "rdfm").Options.(*rdfm.Options)
	if o.DeviceID != "aa:bb:cc:dd:ee:01" || len(o.InstallCommand) != 2 || o.Metadata["site.room"] != "b12" || o.FailedCooldown.D().Hours() != 6 || o.MaxPackage != 4<<30 ||
		!o.Shell || o.MaxShells != 5 || len(o.FSAllowedPaths) != 1 || len(o.Actions) != 1 || o.Actions[0].Timeout.D().Seconds() != 60 {
		t.Errorf("options = %+v", o)
	}
	_, err := config.Parse([]byte("[[server]]\nname = \"r\"\nprotocol = \"rdfm\"\nurl = \"https://x\"\ndevice_id = \"AA-BB\"\n"), "bad.toml", reg)
	if err == nil {
		t.Error("bad device_id accepted")
	}
}
