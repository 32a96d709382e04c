package builtin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	reg := Registry(nil)
	if got := strings.Join(reg.Names(), ","); got != "file,netstat,ping,pkg,sshkey,timedrift" {
		t.Fatalf("modules %s", got)
	}
	// Every module answers bad parameters with a failed result, not an error or a panic.
	for name, m := range reg {
		res, err := m.Run(context.Background(), json.RawMessage(`"not an object"`))
		if err != nil || res.Success || len(res.Errors) == 0 {
			t.Errorf("%s: %+v %v", name, res, err)
		}
	}
	// pkg without an inventory fails cleanly.
	res, err := reg["pkg"].Run(context.Background(), json.RawMessage(`{"pkgmatch":{"matches":["a"]}}`))
	if err != nil || res.Success {
		t.Fatalf("pkg without inventory: %+v %v", res, err)
	}
}
