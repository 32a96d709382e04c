package glpi_test

import (
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
	"github.com/omniagent/omniagent/protocols/glpi"
)

// TestExampleTOML checks the protocol's section of agent.toml.example, every setting uncommented, and bad values.
func TestExampleTOML(t *testing.T) {
	reg := protocols.NewRegistry()
	reg.Register(glpi.Protocol())
	o := configtest.ExampleServer(t, all.Registry(), "glpi").Options.(*glpi.Options)
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
