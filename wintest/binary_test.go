package wintest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

// wineLacks lists the inventory categories Wine 8 cannot provide, each with the substrings of
// the error that name the missing API (any one matches). Any other category error fails the
// test: these are Wine limitations, on Windows every one of them answers. The two WMI queries
// fail inside Wine's WMI scripting objects with error 2147614725 = 0x80020005
// (DISP_E_TYPEMISMATCH); the error names the namespace and class queried.
var wineLacks = map[string][]string{
	"antivirus": {`root\SecurityCenter2`},                           // WMI, Security Center namespace
	"batteries": {"Win32_Battery"},                                  // WMI, battery class
	"logins":    {"EvtQuery: failed without setting an error code"}, // wevtapi EvtQuery is a stub: no Security event log
	"os":        {"SLIsGenuineLocal"},                               // slc.dll activation status; the rest of os is filled
	"usb":       {`Enum\USB`},                                       // Wine's registry has no USB device enumeration
	"software":  {`Uninstall: File not found`},                      // fresh prefix: nothing installed yet (TestMSI lists it)
	"firewalls": {`SharedAccess\Parameters\FirewallPolicy`},         // no Windows Firewall service: its profile keys are absent
	"hotfixes":  {"Win32_QuickFixEngineering"},                      // WMI, quick-fix class (fails like the other WMI classes)
}

// invMeta is the part of the JSON inventory the assertions read.
type invMeta struct {
	Meta struct {
		Categories []struct {
			Name     string `json:"name"`
			Error    string `json:"error"`
			TimedOut bool   `json:"timed_out"`
		} `json:"categories"`
	} `json:"meta"`
	OS struct {
		Family, Name, Build, InstallDate string
	} `json:"os"`
	System map[string]any   `json:"system"`
	CPUs   []map[string]any `json:"cpus"`
	Memory struct {
		Total uint64 `json:"total_bytes"`
	} `json:"memory"`
	Disks    []map[string]any `json:"disks"`
	Volumes  []map[string]any `json:"volumes"`
	Networks []map[string]any `json:"networks"`
	Users    []map[string]any `json:"users"`
	Software []struct {
		Name, Version, Publisher string
	} `json:"software"`
}

// inventoryJSON runs `inventory --format json` and decodes it.
func (w *wine) inventoryJSON(t *testing.T) invMeta {
	t.Helper()
	r := w.agent(t, 90*time.Second, "inventory", "--format", "json")
	if r.code != 0 {
		t.Fatalf("inventory --format json: exit %d\n%s", r.code, r.stderr)
	}
	var inv invMeta
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil {
		t.Fatalf("inventory JSON: %v\n%.2000s", err, r.stdout)
	}
	return inv
}

// checkCategories fails on any category error not explained by lacks.
func checkCategories(t *testing.T, inv invMeta, lacks map[string][]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range inv.Meta.Categories {
		seen[c.Name] = true
		want, expected := lacks[c.Name]
		switch {
		case c.Error == "" && expected:
			t.Logf("category %s now answers under Wine: drop it from the list of what Wine lacks", c.Name)
		case c.Error == "":
		case !expected:
			t.Errorf("category %s failed under Wine: %s", c.Name, c.Error)
		case !containsAny(c.Error, want):
			t.Errorf("category %s: error %q names none of %q", c.Name, c.Error, want)
		}
	}
	for _, name := range []string{"os", "system", "cpu", "memory", "disks", "volumes", "network", "users"} {
		if !seen[name] {
			t.Errorf("category %s not collected", name)
		}
	}
}

func TestBinary(t *testing.T) {
	w := need(t)
	t.Run("version", func(t *testing.T) {
		r := w.agent(t, 30*time.Second, "version")
		if r.code != 0 || !strings.Contains(r.stdout, "omniagent 0.0.0-wine") || !strings.Contains(r.stdout, "windows/amd64") {
			t.Fatalf("version: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("config check", func(t *testing.T) {
		r := w.agent(t, 30*time.Second, "config", "check", winPath(w.dir+"/stage/agent.toml.example"))
		if r.code != 0 {
			t.Fatalf("config check agent.toml.example: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("inventory json", func(t *testing.T) {
		inv := w.inventoryJSON(t)
		checkCategories(t, inv, wineLacks)
		if inv.OS.Family != "windows" || !strings.Contains(inv.OS.Name, "Windows 10") || inv.OS.Build == "" {
			t.Errorf("os: %+v (want family windows, Windows 10 with a build: the prefix is set to win10)", inv.OS)
		}
		if inv.System["uuid"] == nil || inv.System["hostname"] == nil || inv.System["timezone"] == nil || inv.System["machine_uid"] == nil {
			t.Errorf("system misses uuid, hostname, timezone or machine_uid (MachineGuid): %v", inv.System)
		}
		if len(inv.CPUs) == 0 || inv.Memory.Total == 0 || len(inv.Disks) == 0 || len(inv.Volumes) == 0 || len(inv.Networks) == 0 || len(inv.Users) == 0 {
			t.Errorf("empty hardware: %d cpus, %d bytes of memory, %d disks, %d volumes, %d networks, %d users",
				len(inv.CPUs), inv.Memory.Total, len(inv.Disks), len(inv.Volumes), len(inv.Networks), len(inv.Users))
		}
	})
	t.Run("inventory glpi", func(t *testing.T) {
		r := w.agent(t, 90*time.Second, "inventory", "--format", "glpi")
		if r.code != 0 {
			t.Fatalf("inventory --format glpi: exit %d\n%s", r.code, r.stderr)
		}
		validateGLPI(t, []byte(r.stdout))
	})
	t.Run("inventory oco", func(t *testing.T) {
		r := w.agent(t, 90*time.Second, "inventory", "--format", "oco")
		if r.code != 0 {
			t.Fatalf("inventory --format oco: exit %d\n%s", r.code, r.stderr)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("OCO inventory is not JSON: %v\n%.1000s", err, r.stdout)
		}
		for _, k := range []string{"hostname", "os", "os_version", "cpu", "kernel_version"} {
			if s, _ := doc[k].(string); s == "" {
				t.Errorf("OCO inventory has no %q: %.1000s", k, r.stdout)
			}
		}
		if os, _ := doc["os"].(string); !strings.Contains(os, "Windows") {
			t.Errorf("OCO inventory os %q", os)
		}
	})
}

// validateGLPI checks a GLPI inventory message against the current and the strict 1.1.32
// inventory_format schemas with a complete JSON Schema implementation (the fake's).
func validateGLPI(t *testing.T, msg []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("GLPI inventory is not JSON: %v\n%.1000s", err, msg)
	}
	for _, name := range []string{glpi.SchemaCurrent, glpi.SchemaStrict32} {
		raw, err := glpi.SchemaFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sch, err := glpifake.CompileSchema(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("GLPI inventory does not validate against %s: %v", name, err)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
