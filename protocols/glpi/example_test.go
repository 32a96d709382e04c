package glpi_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
)

// TestExampleTOML parses example.toml with every setting uncommented, and bad values.
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
	reg.Register(glpi.Protocol())
	cfg, err := config.Parse([]byte(b.String()), "example.toml", reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 1 {
		t.Fatalf("servers = %d", len(cfg.Servers))
	}
	o := cfg.Servers[0].Options.(*glpi.Options)
	if o.Tag != "site-a" || o.Compression != "zlib" || o.FullInventoryPostpone != 14 || len(o.DeployFileRoots) != 1 || o.DeployCommandTimeout.D().Minutes() != 30 {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range []string{`compression = "lzma"`, `full_inventory_postpone = -1`, `tasks = ["collect"]`, `deploy_file_roots = ["relative"]`, `deploy_file_roots = ["/"]`, "register = true\ntoken = \"nope\"", `default_expiration = "10s"`} {
		_, err := config.Parse([]byte("[[server]]\nname = \"g\"\nprotocol = \"glpi\"\nurl = \"https://x/front/inventory.php\"\n"+bad+"\n"), "bad.toml", reg)
		if err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
