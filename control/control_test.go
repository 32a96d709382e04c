package control

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fakeHandler struct{ triggers atomic.Int32 }

func (f *fakeHandler) Trigger(_ context.Context, name string, force bool) ([]Outcome, error) {
	f.triggers.Add(1)
	if name == "nope" {
		return nil, errors.New(`no enabled server named "nope"`)
	}
	return []Outcome{{Server: name, Protocol: "test", Summary: "ok", Duration: time.Second}}, nil
}

func (f *fakeHandler) Live() Live {
	return Live{PID: 42, Servers: []ServerLive{{Server: "a", Protocol: "test", Running: true, Pending: 1}}}
}

// serve runs a channel on a fresh state folder and returns the folder.
func serve(t *testing.T, h Handler) string {
	t.Helper()
	dir := shortDir(t)
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return dir
}

// shortDir is a state folder with a short path (a unix socket path has ~104 bytes at most).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestCallAnswers(t *testing.T) {
	h := &fakeHandler{}
	dir := serve(t, h)
	ctx := context.Background()
	r, err := Call(ctx, dir, Request{Cmd: CmdPing})
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if l := r.Live; l == nil || l.PID != 42 || len(l.Servers) != 1 || !l.Servers[0].Running {
		t.Fatalf("ping: %+v", r)
	}
	for _, tc := range []struct {
		req     Request
		wantErr string
		want    string
	}{
		{Request{Cmd: CmdTrigger, Server: "a", ForceUpdate: true}, "", "a"},
		{Request{Cmd: CmdTrigger, Server: "nope"}, "no enabled server", ""},
		{Request{Cmd: "reboot"}, `unknown command "reboot"`, ""},
	} {
		r, err := Call(ctx, dir, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if tc.wantErr != "" {
			if !strings.Contains(r.Error, tc.wantErr) {
				t.Errorf("%+v: error %q, want %q", tc.req, r.Error, tc.wantErr)
			}
			continue
		}
		if r.Error != "" || len(r.Outcomes) != 1 || r.Outcomes[0].Server != tc.want || r.Outcomes[0].Duration != time.Second {
			t.Errorf("%+v: %+v", tc.req, r)
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(Address(dir))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
		}
	}
	// A second daemon on the same state folder is refused; the first keeps answering.
	if _, err := Listen(dir); !errors.Is(err, ErrDaemonRunning) {
		t.Fatalf("second Listen: %v, want ErrDaemonRunning", err)
	}
	if _, ok := Answers(ctx, dir); !ok {
		t.Fatal("the first daemon stopped answering")
	}
}

func TestNoDaemonAndStaleSocket(t *testing.T) {
	dir := shortDir(t)
	if _, err := Call(context.Background(), dir, Request{Cmd: CmdPing}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("no daemon: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	// A daemon that died leaves its socket file: the next one replaces it.
	ln, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(Address(dir)); err != nil {
		t.Fatalf("stale socket not left: %v", err)
	}
	if _, err := Call(context.Background(), dir, Request{Cmd: CmdPing}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("stale socket: %v, want ErrNoDaemon", err)
	}
	ln, err = Listen(dir)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln.Close()
	// A file that is not a socket is never removed.
	os.WriteFile(Address(dir), []byte("x"), 0o600)
	if _, err := Listen(dir); err == nil {
		t.Fatal("listened over a regular file")
	}
}

func TestBadRequests(t *testing.T) {
	dir := serve(t, &fakeHandler{})
	for _, line := range []string{"not json\n", strings.Repeat("x", 8<<10)} {
		c, err := dial(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(line))
		buf := make([]byte, 512)
		n, _ := c.Read(buf)
		c.Close()
		if !strings.Contains(string(buf[:n]), `"error"`) {
			t.Errorf("%.20q: answer %q, want an error", line, buf[:n])
		}
	}
}
