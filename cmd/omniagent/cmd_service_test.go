package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The service commands are never run for real here (they would install a service on the test
// machine); these tests cover what can run without touching the service manager.

func TestStatusShowsService(t *testing.T) {
	e, out, errb := testEnv()
	cfg := writeConfig(t, "")
	if code := dispatch(context.Background(), e, []string{"status", "--config", cfg}); code != 0 {
		t.Fatalf("status: exit %d, %s", code, errb)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	state, ok := strings.CutPrefix(line, "service: ")
	if !ok {
		t.Fatalf("first line %q lacks the service status", line)
	}
	known := false
	for _, s := range []string{"running", "stopped", "not installed", "unknown"} {
		known = known || strings.HasPrefix(state, s)
	}
	if !known {
		t.Errorf("service status %q", state)
	}
}

func TestServiceCommandFlags(t *testing.T) {
	for _, args := range [][]string{
		{"install", "--bogus"}, {"uninstall", "--bogus"}, {"start", "extra-arg"}, {"install", "x"}, {"uninstall", "x"}, {"stop", "--x"}, {"restart", "--x"},
	} {
		e, _, errb := testEnv()
		if code := dispatch(context.Background(), e, args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb)
		}
	}
}

func TestServiceOptionsAbsolute(t *testing.T) {
	o, err := serviceOptions("rel/agent.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(o.ConfigPath) || !filepath.IsAbs(o.Executable) {
		t.Errorf("paths not absolute: %+v", o)
	}
	if got := o.Arguments(); len(got) != 3 || got[0] != "run" || got[1] != "--config" || got[2] != o.ConfigPath {
		t.Errorf("arguments %q", got)
	}
}
