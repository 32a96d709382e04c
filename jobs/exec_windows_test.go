//go:build windows

package jobs

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// These run on a Windows machine (not in the Linux CI), against real cmd.exe and ConPTY.

func TestWindowsExecCmd(t *testing.T) {
	r := New(Options{Server: "test", SpoolDir: t.TempDir(), Policy: Policy{AllowExec: true}})
	res, err := r.Exec(context.Background(), Command{Line: `echo "a b" & exit /b 7`})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 7 || !strings.Contains(string(res.Output), `"a b"`) {
		t.Fatalf("result %+v %q", res, res.Output)
	}
}

func TestWindowsExecTimeoutKillsTree(t *testing.T) {
	r := New(Options{Server: "test", SpoolDir: t.TempDir(), Policy: Policy{AllowExec: true}})
	start := time.Now()
	// cmd.exe starts ping, which holds the output pipe: the job kill must end both.
	res, err := r.Exec(context.Background(), Command{Line: "ping -n 60 127.0.0.1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.ExitCode != -1 || time.Since(start) > 10*time.Second {
		t.Fatalf("result %+v after %v", res, time.Since(start))
	}
}

func TestWindowsShell(t *testing.T) {
	r := New(Options{Server: "test", SpoolDir: t.TempDir(), Policy: Policy{AllowShell: true}})
	s, err := r.Shell(context.Background(), ShellOptions{Cols: 100, Rows: 30})
	if err != nil {
		if strings.Contains(err.Error(), "not supported on this Windows") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	defer s.Close()
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(s)
		out <- string(b)
	}()
	io.WriteString(s, "set /a 6*7\r\n")
	if err := s.Resize(Size{Cols: 120, Rows: 40}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(s, "exit 4\r\n")
	code, err := s.Wait()
	if err != nil || code != 4 {
		t.Fatalf("exit %d %v", code, err)
	}
	select {
	case o := <-out:
		if !strings.Contains(o, "42") {
			t.Fatalf("output %q", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("output did not end")
	}
}
