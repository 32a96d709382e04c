package glpi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/omniagent/omniagent/collectors"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

func identityFor() identity.Identity {
	return identity.Identity{Hostname: "pc1", MachineUID: "4c4c4544-0042-3510-8052-b4c04f4b4e31", AgentVersion: "1.2.0"}
}

// validateBoth checks a message against the current and the strict 1.1.32 schema (files in
// testdata, compiled independently of the adapter's embedded copy).
func validateBoth(t *testing.T, msg []byte) {
	t.Helper()
	for _, name := range []string{"testdata/inventory.schema.json", "testdata/inventory.schema.strict-1.1.32.json"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sch, err := glpifake.CompileSchema(raw)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestExamplesValidate: the copied upstream examples validate with our compiled schemas (the
// validator is wired right).
func TestExamplesValidate(t *testing.T) {
	for _, f := range []string{"computer_1.json", "computer_1_partial_softs.json", "computer_2.json"} {
		raw, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		rawSch, _ := os.ReadFile("testdata/inventory.schema.json")
		sch, err := glpifake.CompileSchema(rawSch)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestThisMachineValidates: the real collectors' inventory of this machine, mapped, passes
// both schemas without the repair having to hide a mapping bug.
func TestThisMachineValidates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := identity.Resolve(ctx, identity.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := collectors.New(collectors.Options{Identity: id}).Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := glpi.FormatInventory(ctx, inv, id)
	if err != nil {
		t.Fatal(err)
	}
	validateBoth(t, out)
	dropped := glpi.DroppedFields(inv, id)
	if len(dropped) > 0 {
		t.Errorf("the mapping of this machine needed repairs (mapping bugs): %v", dropped)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	c := m["content"].(map[string]any)
	for _, k := range []string{"hardware", "operatingsystem", "versionclient"} {
		if c[k] == nil {
			t.Errorf("this machine's inventory lacks %s", k)
		}
	}
	// Every section the collectors filled here reaches the GLPI document.
	for k, n := range map[string]int{"envs": len(inv.Envs), "firewalls": len(inv.Firewalls), "databases_services": len(inv.DatabaseServices),
		"volume_groups": len(inv.VolumeGroups), "virtualmachines": len(inv.VirtualMachines), "remote_mgmt": len(inv.RemoteMgmt),
		"sounds": len(inv.Sounds), "inputs": len(inv.Inputs), "ports": len(inv.Ports), "slots": len(inv.Slots)} {
		if n > 0 && c[k] == nil {
			t.Errorf("%d %s collected, none sent", n, k)
		}
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("this machine: %d bytes, %d sections: %v", len(out), len(c), keys)
}

// TestRepairDropsBadFields: values the schema refuses are dropped one by one; the rest of the
// inventory is sent.
func TestRepairDropsBadFields(t *testing.T) {
	inv := sampleInventory()
	inv.CPUs[0].Arch = "riscv128"                        // not in the arch enum
	inv.Networks[1].IPv4[0].Address = "10.1.2"           // not an ipv4
	inv.Users = append(inv.Users, inv.Users[0])          // fine
	inv.Users[1].UID = ""                                // local_users requires id
	inv.System.Timezone = ""                             // still valid
	inv.Software = append(inv.Software, inv.Software[0]) //
	inv.Software[1].Name = ""                            // softwares without a name are left out by the mapping
	out, err := glpi.FormatInventory(context.Background(), inv, identityFor())
	if err != nil {
		t.Fatal(err)
	}
	validateBoth(t, out)
	dropped := glpi.DroppedFields(inv, identityFor())
	if len(dropped) != 3 {
		t.Errorf("dropped = %v, want 3 fields", dropped)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	c := m["content"].(map[string]any)
	if len(c["local_users"].([]any)) != 1 || len(c["softwares"].([]any)) != 1 || c["cpus"].([]any)[0].(map[string]any)["arch"] != nil {
		t.Errorf("content after repair: users %v softs %v", c["local_users"], c["softwares"])
	}
}
