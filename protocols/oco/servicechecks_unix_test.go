//go:build !windows

package oco_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

func writeCheck(t *testing.T, dir, name, body string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// Real scripts in a root-owned folder: results reach the server as services (upserted by
// name), a hanging check is killed at its timeout and shows UNKNOWN, a world-writable one is
// refused, and results are cached for service_checks_interval.
func TestServiceChecks(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the test does not run as root: checks must be owned by root")
		}
		t.Skip("not root: service checks must be owned by root")
	}
	dir := t.TempDir()
	counter := filepath.Join(t.TempDir(), "runs")
	writeCheck(t, dir, "10_ok", "echo x >> "+counter+"\necho '0 Disk_root count=15;80;90 15 % used'\necho '2 \"Backup job\" - last run failed'\necho 'garbage line'\n", 0o755)
	writeCheck(t, dir, "20_hang", "sleep 30\n", 0o755)
	writeCheck(t, dir, "30_open", "echo '0 Open - should never run'\n", 0o757)
	writeCheck(t, dir, "README", "not a program\n", 0o644)

	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.logs = protocoltest.NewLogCapture(t)
	a := e.adapter(func(_ *config.Server, o *oco.Options) {
		o.ServiceChecksDir = dir
		o.ServiceChecksTimeout = config.Duration(time.Second)
		o.ServiceChecksInterval = config.Duration(time.Hour)
	})
	start := time.Now()
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("the cycle took %s: the hanging check was not killed at its timeout", d)
	}
	got := map[string]ocofake.Service{}
	for _, s := range e.fake.Services("pc1") {
		got[s.Name] = s
	}
	if s := got["Disk_root"]; s.Status != 0 || s.Metrics != "count=15;80;90" || s.Details != "15 % used" {
		t.Errorf("Disk_root = %+v", s)
	}
	if s := got["Backup job"]; s.Status != 2 || s.Metrics != "-" {
		t.Errorf("Backup job = %+v", s)
	}
	if s := got["omniagent check 20_hang"]; s.Status != 3 || !strings.Contains(s.Details, "timed out") {
		t.Errorf("hanging check = %+v", s)
	}
	if s := got["omniagent check 30_open"]; s.Status != 3 || !strings.Contains(s.Details, "world-writable") {
		t.Errorf("world-writable check = %+v", s)
	}
	if _, ok := got["Open"]; ok {
		t.Error("the world-writable check ran")
	}
	if len(got) != 4 {
		t.Errorf("services = %v, want 4", got)
	}
	if !strings.Contains(e.logs.String(), "garbage line") {
		t.Error("the bad line was not logged")
	}

	// Cached: the next hello sends the same results without running the checks again.
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(counter); strings.Count(string(b), "x") != 1 {
		t.Fatalf("the check ran %d times within service_checks_interval", strings.Count(string(b), "x"))
	}
	if n := len(e.fake.Services("pc1")); n != 4 {
		t.Fatalf("after the second hello the server has %d services (upsert by name keeps 4)", n)
	}
}

// A folder others can write to is refused whole.
func TestServiceChecksUnsafeFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	writeCheck(t, dir, "ok", "echo '0 X - fine'\n", 0o755)
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	a := e.adapter(func(_ *config.Server, o *oco.Options) { o.ServiceChecksDir = dir })
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	svcs := e.fake.Services("pc1")
	if len(svcs) != 1 || svcs[0].Status != 3 || !strings.Contains(svcs[0].Details, "refused") {
		t.Fatalf("services = %+v, want one UNKNOWN saying the folder was refused", svcs)
	}
}
