//go:build !windows

package jobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// termReader collects a session's output in the background so tests can wait for text.
type termReader struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func readAll(r io.Reader) *termReader {
	t := &termReader{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			t.mu.Lock()
			t.buf.Write(b[:n])
			t.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return t
}

func (t *termReader) waitFor(tb testing.TB, s string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		ok := strings.Contains(t.buf.String(), s)
		t.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tb.Fatalf("no %q in terminal output %q", s, t.buf.String())
}

func shellRunner(t *testing.T) *Runner {
	return New(Options{Server: "test", SpoolDir: t.TempDir(), Policy: Policy{AllowShell: true}, Shell: "/bin/sh"})
}

func TestShellRefusedByPolicy(t *testing.T) {
	r := New(Options{Server: "srv2"})
	_, err := r.Shell(context.Background(), ShellOptions{})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "allow_shell is false for server \"srv2\"") {
		t.Fatalf("err=%v", err)
	}
}

func TestShellTypeResizeExit(t *testing.T) {
	r := shellRunner(t)
	s, err := r.Shell(context.Background(), ShellOptions{Cols: 100, Rows: 30, Env: []string{"OMNI_T=xyz"}, Dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := readAll(s)
	io.WriteString(s, "echo v=$OMNI_T-$((6*7)); pwd\n")
	out.waitFor(t, "v=xyz-42")
	io.WriteString(s, "stty size\n")
	out.waitFor(t, "30 100")
	if err := s.Resize(Size{Cols: 132, Rows: 43}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(s, "stty size\n")
	out.waitFor(t, "43 132")
	io.WriteString(s, "exit 5\n")
	code, err := s.Wait()
	if err != nil || code != 5 {
		t.Fatalf("exit %d %v", code, err)
	}
	select {
	case <-out.done:
	case <-time.After(5 * time.Second):
		t.Fatal("output did not end after the shell exited")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestShellCloseKillsBackgroundJobs(t *testing.T) {
	r := shellRunner(t)
	s, err := r.Shell(context.Background(), ShellOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(s)
	pidFile := filepath.Join(t.TempDir(), "pid")
	io.WriteString(s, "sleep 120 & echo $! > "+pidFile+"; echo sta$((1))rted\n")
	out.waitFor(t, "sta1rted")
	s.Close()
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 {
		t.Fatal("no pid")
	}
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("background job %d survived the session", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := s.Wait(); code != -1 {
		t.Fatalf("code %d after kill", code)
	}
}

func TestBridgeOverSocket(t *testing.T) {
	r := shellRunner(t)
	for _, end := range []string{"shell exits", "remote closes", "ctx"} {
		t.Run(end, func(t *testing.T) {
			s, err := r.Shell(context.Background(), ShellOptions{})
			if err != nil {
				t.Fatal(err)
			}
			a, b := net.Pipe()
			defer b.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type res struct {
				code int
				err  error
			}
			done := make(chan res, 1)
			go func() {
				code, err := Bridge(ctx, s, a)
				a.Close()
				done <- res{code, err}
			}()
			out := readAll(b)
			io.WriteString(b, "echo bridged-$((1+1))\n")
			out.waitFor(t, "bridged-2")
			want := -1
			switch end {
			case "shell exits":
				io.WriteString(b, "exit 3\n")
				want = 3
			case "remote closes":
				b.Close()
			case "ctx":
				cancel()
			}
			select {
			case r := <-done:
				if r.code != want {
					t.Fatalf("code %d err %v", r.code, r.err)
				}
				if end == "ctx" && !errors.Is(r.err, context.Canceled) {
					t.Fatalf("err %v", r.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("bridge did not end")
			}
		})
	}
}
