package rdfm_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/rdfm"
)

// TestExampleTOML parses example.toml with every setting uncommented.
func TestExampleTOML(t *testing.T) {
	raw, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^#\s?(\[\[?[a-z_.]+\]\]?\s*$|[a-z_"][a-z0-9_."]*\s*=)`)
	var b strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if setting.MatchString(line) {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		b.WriteString(line + "\n")
	}
	reg := protocols.NewRegistry()
	reg.Register(rdfm.Protocol())
	cfg, err := config.Parse([]byte(b.String()), "example.toml", reg)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Servers[0].Options.(*rdfm.Options)
	if o.DeviceID != "aa:bb:cc:dd:ee:01" || len(o.InstallCommand) != 2 || o.Metadata["site.room"] != "b12" || o.FailedCooldown.D().Hours() != 6 || o.MaxPackage != 4<<30 ||
		!o.Shell || o.MaxShells != 5 || len(o.FSAllowedPaths) != 1 || len(o.Actions) != 1 || o.Actions[0].Timeout.D().Seconds() != 60 {
		t.Errorf("options = %+v", o)
	}
	_, err = config.Parse([]byte("[[server]]\nname = \"r\"\nprotocol = \"rdfm\"\nurl = \"https://x\"\ndevice_id = \"AA-BB\"\n"), "bad.toml", reg)
	if err == nil {
		t.Error("bad device_id accepted")
	}
}
