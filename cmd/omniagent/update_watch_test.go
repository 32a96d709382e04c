package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omniagent/omniagent/selfupdate"
	"github.com/omniagent/omniagent/version"
)

// The uptime watch runs only when this binary is the update in trial, and then it confirms it.
func TestDaemonUpdateWatchOnlyWhileProving(t *testing.T) {
	cases := []struct {
		name      string
		marker    *selfupdate.Marker
		wantProve bool
	}{
		{"no update ever", nil, false},
		{"this binary is the pending update", &selfupdate.Marker{State: selfupdate.StatePending, From: "0.0.1", To: version.Version}, true},
		{"another version is pending", &selfupdate.Marker{State: selfupdate.StatePending, From: "0.0.1", To: version.Version + ".9"}, false},
		{"update already confirmed", &selfupdate.Marker{State: selfupdate.StateDone, From: "0.0.1", To: version.Version}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.marker != nil {
				b, err := json.Marshal(c.marker)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "selfupdate.json"), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			log := slog.New(slog.DiscardHandler)
			d := &daemonUpdate{log: log, o: selfupdate.Options{
				StateDir: dir, Exe: filepath.Join(dir, "omniagent"), Running: version.Version, Logger: log,
			}}
			if d.boot() {
				t.Fatal("boot asked for a restart into the previous binary")
			}
			if d.prove != c.wantProve {
				t.Fatalf("prove = %v, want %v", d.prove, c.wantProve)
			}
			if !c.wantProve {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.watch(ctx, time.Millisecond)
			m, ok, err := selfupdate.ReadMarker(dir)
			if err != nil || !ok || m.State != selfupdate.StateDone || m.Confirmed == "" {
				t.Fatalf("after the watch: marker %+v ok=%v err=%v, want confirmed", m, ok, err)
			}
		})
	}
}
