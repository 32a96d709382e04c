package mig_test

import (
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
	"github.com/omniagent/omniagent/protocols/mig"
)

// TestExampleTOML checks the mig section of agent.toml.example, every setting uncommented.
func TestExampleTOML(t *testing.T) {
	o := configtest.ExampleServer(t, all.Registry(), "mig").Options.(*mig.Options)
	if o.Relay == "" || o.HeartbeatTransport != "http" || o.HeartbeatInterval.D().Seconds() != 300 || o.ModuleTimeout.D().Seconds() != 300 ||
		o.KeyringDir != "/etc/mig/agentkeys" || o.ACLFile != "/etc/mig/acl.cfg" || o.OnlyVerifyPubkey || o.Checkin ||
		o.ImportAgentID == "" || o.AMQPHeartbeat.D().Seconds() != 30 || o.MaxPendingResults != 1000 || o.Tags["operator"] != "IT" ||
		o.RelayProxy != "http://user:password@proxy.example.com:3128" {
		t.Errorf("options = %+v", o)
	}
}

func TestOptionsValidate(t *testing.T) {
	base := "[[server]]\nname = \"m\"\nprotocol = \"mig\"\nurl = \"https://mig/api/v1\"\n"
	reg := protocols.NewRegistry()
	reg.Register(mig.Protocol())
	cases := []struct {
		name, extra, wantErr string
	}{
		{"minimal", `relay = "amqp://a:b@relay:5672/mig"`, ""},
		{"amqps", `relay = "amqps://relay:5671/mig"`, ""},
		{"no relay", ``, "relay is required"},
		{"http relay", `relay = "http://relay/"`, "scheme must be amqp or amqps"},
		{"no host", `relay = "amqp:///mig"`, "no host"},
		{"bad transport", "relay = \"amqp://r/\"\nheartbeat_transport = \"both\"", "heartbeat_transport"},
		{"short heartbeat", "relay = \"amqp://r/\"\nheartbeat_interval = \"10ms\"", "heartbeat_interval"},
		{"short module timeout", "relay = \"amqp://r/\"\nmodule_timeout = \"0s\"", "module_timeout"},
		{"relative keyring", "relay = \"amqp://r/\"\nkeyring_dir = \"keys\"", "keyring_dir"},
		{"windows keyring", "relay = \"amqp://r/\"\nkeyring_dir = 'C:\\mig\\agentkeys'", ""},
		{"empty tag", "relay = \"amqp://r/\"\n[server.tags]\n\" \" = \"x\"", "empty tag name"},
		{"pending", "relay = \"amqp://r/\"\nmax_pending_results = 0", "max_pending_results"},
		{"proxy", "relay = \"amqp://r/\"\nrelay_proxy = \"http://p:3128\"", ""},
		{"socks proxy", "relay = \"amqp://r/\"\nrelay_proxy = \"socks5://p:1080\"", "relay_proxy"},
		{"unknown key", "relay = \"amqp://r/\"\nrelay_url = \"x\"", "relay_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse([]byte(base+c.extra+"\n"), "t.toml", reg)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error = %v, want it to mention %q", err, c.wantErr)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	if got := mig.RedactURL("amqp://agent:s3cret@relay:5672/mig"); strings.Contains(got, "s3cret") || !strings.Contains(got, "agent") {
		t.Errorf("RedactURL = %q", got)
	}
}
