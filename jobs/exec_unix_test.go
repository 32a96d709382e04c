//go:build !windows

package jobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func execRunner(t *testing.T) *Runner {
	t.Helper()
	return New(Options{Server: "test", SpoolDir: t.TempDir(), Policy: Policy{AllowExec: true}})
}

func TestExecRefusedByPolicy(t *testing.T) {
	r := New(Options{Server: "srv1", SpoolDir: t.TempDir()})
	_, err := r.Exec(context.Background(), Command{Line: "true"})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "allow_exec is false") || !strings.Contains(err.Error(), "srv1") {
		t.Fatalf("err = %v", err)
	}
}

func TestExecExitCodes(t *testing.T) {
	r := execRunner(t)
	for _, tc := range []struct {
		name string
		c    Command
		code int
		out  string
	}{
		{"zero", Command{Line: "echo hello"}, 0, "hello\n"},
		{"seven", Command{Line: "echo oops >&2; exit 7"}, 7, "oops\n"},
		{"argv", Command{Argv: []string{"/bin/sh", "-c", "printf %s \"$0\"", "a b"}}, 0, "a b"},
		{"env", Command{Line: "printf %s \"$OMNI_X\"", Env: []string{"OMNI_X=42"}}, 0, "42"},
		{"dir", Command{Line: "pwd", Dir: "/"}, 0, "/\n"},
		{"stdin", Command{Line: "cat", Stdin: strings.NewReader("from stdin")}, 0, "from stdin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Exec(context.Background(), tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tc.code || string(res.Output) != tc.out || res.TimedOut || res.Canceled || res.Truncated {
				t.Fatalf("got %+v output %q", res, res.Output)
			}
		})
	}
}

func TestExecBadCommands(t *testing.T) {
	r := execRunner(t)
	for _, c := range []Command{{}, {Line: "x", Argv: []string{"x"}}, {Line: "x", Shell: "cmd"}, {Line: "x", Shell: "fish"},
		{Argv: []string{"/nonexistent/omniagent-test"}}} {
		if _, err := r.Exec(context.Background(), c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// alive reports whether a pid still exists (a zombie counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestExecTimeoutKillsGrandchild(t *testing.T) {
	r := execRunner(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	res, err := r.Exec(context.Background(), Command{
		Line:    "sh -c 'echo $$ > " + pidFile + "; sleep 60' & wait",
		Timeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.ExitCode != -1 || res.Canceled {
		t.Fatalf("result %+v", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExecGrandchildHoldingPipeDoesNotHang(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid command not installed")
	}
	r := execRunner(t)
	start := time.Now()
	// setsid puts the grandchild out of our process group: only the pipe timeout saves us.
	res, err := r.Exec(context.Background(), Command{Line: "echo started; setsid sleep 6 & sleep 0.3; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || !strings.Contains(string(res.Output), "started") {
		t.Fatalf("result %+v %q", res, res.Output)
	}
	// Held by the escaped sleep, the pipe is given up after defaultWaitDelay, well before 6 s.
	if d := time.Since(start); d < defaultWaitDelay || d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestExecCancel(t *testing.T) {
	r := execRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the shell has written its line: a fixed delay failed on a loaded machine,
	// where the shell had not run yet when the cancel came.
	started := filepath.Join(t.TempDir(), "started")
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(started); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	res, err := r.Exec(ctx, Command{Line: "echo before; : > '" + started + "'; sleep 60"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Canceled || res.TimedOut || res.ExitCode != -1 || string(res.Output) != "before\n" {
		t.Fatalf("result %+v %q", res, res.Output)
	}
}

func TestExecOutputCapKeepsHeadAndTail(t *testing.T) {
	r := execRunner(t)
	res, err := r.Exec(context.Background(), Command{
		Line:      "echo FIRSTLINE; i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done; echo LASTLINE",
		MaxOutput: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Output)
	if !res.Truncated || !strings.HasPrefix(out, "FIRSTLINE\n") || !strings.HasSuffix(out, "line 4999\nLASTLINE\n") ||
		!strings.Contains(out, "bytes of output cut here") || len(out) > 1024+100 {
		t.Fatalf("truncated=%v output %q", res.Truncated, out)
	}
}

func TestCaptureRing(t *testing.T) {
	var all bytes.Buffer
	c := newCapture(100)
	for i := 0; i < 500; i++ {
		s := []byte(strconv.Itoa(i) + ",")
		all.Write(s)
		c.Write(s)
	}
	out, cut := c.Bytes()
	a := all.Bytes()
	if !cut || !bytes.HasPrefix(out, a[:50]) || !bytes.HasSuffix(out, a[len(a)-50:]) {
		t.Fatalf("%q", out)
	}
	c = newCapture(100)
	c.Write([]byte("short"))
	if out, cut := c.Bytes(); cut || string(out) != "short" {
		t.Fatalf("%q %v", out, cut)
	}
}

func TestExecLiveOutputBeforeExit(t *testing.T) {
	r := execRunner(t)
	var mu sync.Mutex
	var got []string
	first := make(chan time.Time, 1)
	res, err := r.Exec(context.Background(), Command{
		Line: "echo one; sleep 1; echo two",
		OnOutput: func(b []byte) {
			select {
			case first <- time.Now():
			default:
			}
			mu.Lock()
			got = append(got, string(b))
			mu.Unlock()
		},
		OutputEvery: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	ft := <-first
	if end.Sub(ft) < 500*time.Millisecond {
		t.Fatalf("first live output only %v before the end", end.Sub(ft))
	}
	if s := strings.Join(got, ""); s != "one\ntwo\n" || len(got) < 2 || res.ExitCode != 0 {
		t.Fatalf("live %q, result %+v", got, res)
	}
}

func TestExecStdinThatNeverEnds(t *testing.T) {
	r := execRunner(t)
	pr, pw := io.Pipe() // never written, never closed
	defer pw.Close()
	start := time.Now()
	res, err := r.Exec(context.Background(), Command{Line: "echo done", Stdin: pr})
	if err != nil && !strings.Contains(err.Error(), "wait") {
		t.Fatal(err)
	}
	if res == nil || res.ExitCode != 0 || string(res.Output) != "done\n" || time.Since(start) > 8*time.Second {
		t.Fatalf("res %+v err %v after %v", res, err, time.Since(start))
	}
}

func TestExecLeftoverOfNormalExitSurvives(t *testing.T) {
	r := execRunner(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	// The leftover redirects its output, as a started service would: no pipe wait.
	res, err := r.Exec(context.Background(), Command{Line: "sleep 30 >/dev/null 2>&1 & echo $! > " + pidFile})
	if err != nil || res.ExitCode != 0 || time.Since(start) > time.Second {
		t.Fatalf("res %+v err %v after %v", res, err, time.Since(start))
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 || !alive(pid) {
		t.Fatalf("leftover %d of a normal exit was killed", pid)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
