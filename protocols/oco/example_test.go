package oco_test

import (
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
	"github.com/omniagent/omniagent/protocols/oco"
)

// TestExampleTOML checks the protocol's section of agent.toml.example, every setting uncommented.
func TestExampleTOML(t *testing.T) {
	reg := protocols.NewRegistry()
	reg.Register(oco.Protocol())
	o := configtest.ExampleServer(t, all.Registry(), "oco").Options.(*oco.Options)
	if o.RegistrationKey != "change-me" || o.OCOProtocol != "hmac" || !o.StrictServerTimestamp || o.LiveOutput.D().Seconds() != 5 {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range []string{`oco_protocol = "v2"`, `agent_version = "1.1.7-go"`, `inventory_check = "10s"`} {
		_, err := config.Parse([]byte("[[server]]\nname = \"o\"\nprotocol = \"oco\"\nurl = \"https://x/api-agent.php\"\n"+bad+"\n"), "bad.toml", reg)
		if err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
