package rdfm_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
)

// waitUntil polls cond every 20 ms for at most d.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSocketLivesThroughInstall: during a 10 s install the device still attaches a shell
// within 1 s (the real server gives 5 s), a dropped management socket comes back during the
// install, and the new version reaches the server even though the socket was down when the
// install ended.
func TestSocketLivesThroughInstall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("install command and shell use /bin/sh")
	}
	e := newEnv(t)
	e.exec, e.shell, e.opts.Shell = true, true, true
	started := filepath.Join(t.TempDir(), "started")
	e.opts.InstallCommand = []string{"/bin/sh", "-c", `touch "$1"; sleep 10; echo rdfm.software.version=2.0`, "sh", started}
	a, ctx, _ := e.serving()
	const mac = "aa:bb:cc:dd:ee:01"
	e.fake.SetPackage(&rdfmfake.Package{ID: 5, Data: []byte(strings.Repeat("p", 64<<10)), Version: "2.0"}, false)
	type outcome struct {
		res protocols.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { res, err := a.Cycle(ctx); done <- outcome{res, err} }()
	waitUntil(t, "the install command to start", 10*time.Second, func() bool { _, err := os.Stat(started); return err == nil })
	installing := func(what string) {
		t.Helper()
		select {
		case o := <-done:
			t.Fatalf("%s only after the install ended (%+v, %v)", what, o.res, o.err)
		default:
		}
	}

	// A shell attach while the install runs.
	t0 := time.Now()
	sh, err := e.fake.OpenShell(ctx, mac)
	if err != nil {
		t.Fatalf("shell during the install: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("shell attached after %s during the install, want under 1 s", d)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sh.Write(rctx, websocket.MessageBinary, []byte("echo up-$((20+22))\n")); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for !strings.Contains(out.String(), "up-42") {
		_, data, err := sh.Read(rctx)
		if err != nil {
			t.Fatalf("shell output during the install: %v (so far %q)", err, out.String())
		}
		out.Write(data)
	}
	sh.Close(websocket.StatusNormalClosure, "done")
	installing("the shell worked")

	// The management socket drops: it is back while the install still runs.
	conns := e.fake.Connections()
	e.fake.CloseDevice(websocket.StatusGoingAway, "server restart")
	waitUntil(t, "the management socket to reconnect", 5*time.Second, func() bool { return e.fake.Connections() > conns })
	installing("the socket reconnected")

	// The socket drops again and stays down until after the install: the version waits.
	e.fake.SocketsDown(true)
	e.fake.CloseDevice(websocket.StatusGoingAway, "server restart")
	o := <-done
	if o.err != nil || o.res.Details["version"] != "2.0" {
		t.Fatalf("install cycle = %+v, %v", o.res, o.err)
	}
	if v := e.fake.Metadata(mac)["rdfm.software.version"]; v != "1.0" {
		t.Fatalf("server has version %v while the socket is down, want still 1.0", v)
	}
	e.fake.SocketsDown(false)
	for {
		if m := next(t, e.fake, "update_progress"); m["progress"] == 100.0 {
			break
		}
	}
	if v := next(t, e.fake, "update_version"); v["version"] != "2.0" {
		t.Fatalf("update_version = %v", v)
	}
	waitUntil(t, "the server to store 2.0", 5*time.Second, func() bool { return e.fake.Metadata(mac)["rdfm.software.version"] == "2.0" })
}

// TestInstallExitWithoutVersion: an install command that exits 0 without printing
// rdfm.software.version= is not reported as a new version the server never offered (the
// RDFM server's update check names none): the status says the version is unknown, nothing
// is sent as update_version, and the package waits out the cool-down instead of being
// reinstalled every cycle. A non-zero exit is a failure.
func TestInstallExitWithoutVersion(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("install command uses /bin/sh")
	}
	for _, tc := range []struct {
		name, script string
		fails        bool
	}{
		{"exit 0, no version line", "echo installed", false},
		{"exit 3", "echo broken; exit 3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.exec = true
			e.opts.InstallCommand = []string{"/bin/sh", "-c", tc.script}
			a, ctx, _ := e.serving()
			e.fake.SetPackage(&rdfmfake.Package{ID: 6, Data: []byte("payload"), Version: "2.0"}, false)
			res, err := a.Cycle(ctx)
			if tc.fails {
				if err == nil || !strings.Contains(err.Error(), "exited with 3") {
					t.Fatalf("failing install = %+v, %v", res, err)
				}
			} else if err != nil || !strings.Contains(res.Details["update"], "version is unknown") || res.Details["version"] != "1.0" {
				t.Fatalf("install without a version = %+v, %v", res, err)
			}
			res, err = a.Cycle(ctx)
			if err != nil || !strings.Contains(res.Details["update"], "skipped") {
				t.Fatalf("next cycle = %+v, %v; want the package skipped", res, err)
			}
			if v := e.fake.Metadata("aa:bb:cc:dd:ee:01")["rdfm.software.version"]; v != "1.0" {
				t.Fatalf("server told version %v", v)
			}
		})
	}
}
