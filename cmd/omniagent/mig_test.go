package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigRunModule(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("root:x:0:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	params := fmt.Sprintf(`{"searches":{"s1":{"paths":[%q],"names":["^passwd$"],"options":{"matchall":true}}}}`, dir)

	t.Run("file module prints MIG's result bytes", func(t *testing.T) {
		e, out, errb := testEnv()
		if code := dispatch(context.Background(), e, []string{"mig", "run-module", "file", params}); code != 0 {
			t.Fatalf("exit %d, stderr %s", code, errb)
		}
		line := out.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"foundanything":true,"success":true,"elements":{"s1":[{"file":`)) || !bytes.HasSuffix(line, []byte("}\n")) {
			t.Fatalf("stdout %s", line)
		}
		var res struct {
			Elements map[string][]struct {
				File string `json:"file"`
			} `json:"elements"`
		}
		if err := json.Unmarshal(line, &res); err != nil {
			t.Fatal(err)
		}
		if got := res.Elements["s1"]; len(got) != 1 || got[0].File != filepath.Join(dir, "passwd") {
			t.Fatalf("elements %+v", res.Elements)
		}
	})
	t.Run("parameters from stdin, pretty", func(t *testing.T) {
		e, out, errb := testEnv()
		e.stdin = strings.NewReader(params)
		if code := dispatch(context.Background(), e, []string{"mig", "run-module", "--pretty", "file", "-"}); code != 0 {
			t.Fatalf("exit %d, stderr %s", code, errb)
		}
		if !strings.Contains(out.String(), "\n  \"foundanything\": true,") {
			t.Fatalf("stdout %s", out)
		}
	})
	t.Run("invalid parameters: result printed, exit 1", func(t *testing.T) {
		e, out, _ := testEnv()
		code := dispatch(context.Background(), e, []string{"mig", "run-module", "file", `{"searches":{"s1":{"names":["x"]}}}`})
		if code != 1 || !strings.Contains(out.String(), `"success":false`) || !strings.Contains(out.String(), "paths is empty") {
			t.Fatalf("exit %d, stdout %s", code, out)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown module", []string{"mig", "run-module", "memory", "{}"}, `module "memory" is not available`},
		{"bad json", []string{"mig", "run-module", "file", "{"}, "not valid JSON"},
		{"missing params", []string{"mig", "run-module", "file"}, "want NAME and PARAMS_JSON"},
		{"unknown subcommand", []string{"mig", "run"}, `unknown subcommand "run"`},
		{"no subcommand", []string{"mig"}, "Usage: omniagent mig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, errb := testEnv()
			if code := dispatch(context.Background(), e, tc.args); code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, errb, tc.want)
			}
		})
	}
}
