// Package moduletest runs a MIG module the way the agent does and decodes its result, for the
// modules' own tests.
package moduletest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// Run runs m with the JSON params and returns its result decoded into T, and as the JSON the
// agent would send.
func Run[T any](t testing.TB, m modules.Module, params string) (T, string) {
	t.Helper()
	var r T
	res, err := m.Run(context.Background(), json.RawMessage(params))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r, string(b)
}
