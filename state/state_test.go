package state

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

type keys struct {
	AgentKey  string `json:"agent_key"`
	ServerKey string `json:"server_key"`
}

func TestSaveLoadModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Server("oco-prod")
	var k keys
	if found, err := h.Load(&k); err != nil || found {
		t.Fatalf("fresh load: found=%v err=%v", found, err)
	}
	if err := h.Save(keys{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if found, err := h.Load(&k); err != nil || !found || k.AgentKey != "a" || k.ServerKey != "b" {
		t.Fatalf("load: %+v found=%v err=%v", k, found, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(h.Path())
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
		}
		di, _ := os.Stat(dir)
		if di.Mode().Perm() != 0o700 {
			t.Errorf("state dir mode %v, want 0700", di.Mode().Perm())
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "servers", ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

func TestCrashBeforeRenameKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteFileAtomic(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	err := writeAtomic(p, []byte("new and longer"), 0o600, func() error { return crash })
	if !errors.Is(err, crash) {
		t.Fatalf("err = %v", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("file = %q after a crash before rename, want the old content", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp file not cleaned: %v", entries)
	}
}

func TestCorruptFileIsReportedAndKept(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := s.Server("glpi")
	if err := os.WriteFile(h.Path(), []byte(`{"schema":1,"data":{"agent_key":`), 0o600); err != nil {
		t.Fatal(err)
	}
	var k keys
	_, err = h.Load(&k)
	if err == nil || !strings.Contains(err.Error(), h.Path()) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("load of corrupt file: %v", err)
	}
	if err := h.Save(keys{"x", "y"}); err == nil {
		t.Fatal("save over a corrupt file was allowed")
	}
	got, _ := os.ReadFile(h.Path())
	if !strings.HasPrefix(string(got), `{"schema":1,"data":{"agent_key":`) {
		t.Fatalf("corrupt file was replaced: %q", got)
	}
	// A newer schema is refused the same way.
	h2 := s.Server("newer")
	os.WriteFile(h2.Path(), []byte(`{"schema":99,"data":{}}`), 0o600)
	if _, err := h2.Load(&k); err == nil || !strings.Contains(err.Error(), "schema 99") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestStatusRoundTrip(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, name := range []string{"b", "a"} {
		if err := s.SaveStatus(Status{Server: name, Protocol: "glpi", LastRun: now, LastResult: "ok", Details: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Statuses()
	if err != nil || len(all) != 2 || all[0].Server != "a" || !all[1].LastRun.Equal(now) || all[1].Details["k"] != "v" {
		t.Fatalf("statuses = %+v, %v", all, err)
	}
	if _, found, err := s.LoadStatus("none"); found || err != nil {
		t.Fatalf("missing status: found=%v err=%v", found, err)
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"glpi-prod": true, "oco.1_a": true, "": false, "../x": false, ".hidden": false, "a/b": false, "a b": false, "9": true, "-x": false, "x\n": false, "é": false, strings.Repeat("a", 128): true, strings.Repeat("a", 129): false} {
		if err := ValidName(name); (err == nil) != ok {
			t.Errorf("ValidName(%q) = %v", name, err)
		}
	}
}
