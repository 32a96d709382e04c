package oco_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/oco"
)

// TestExampleTOML parses example.toml with every setting uncommented.
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
	reg.Register(oco.Protocol())
	cfg, err := config.Parse([]byte(b.String()), "example.toml", reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 1 {
		t.Fatalf("servers = %d", len(cfg.Servers))
	}
	o := cfg.Servers[0].Options.(*oco.Options)
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
