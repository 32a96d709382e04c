package jobs

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && !strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

// A record whose leader's start time does not match is a reused pid: left alone. The record
// of our group is killed and both records are forgotten.
func TestKillOrphansChecksStartTime(t *testing.T) {
	spool := t.TempDir()
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill() })
	pid := cmd.Process.Pid
	start, boot, ok := procIdentity(pid)
	if !ok {
		t.Fatal("no identity for a live process")
	}
	write := func(rec procRecord) {
		os.MkdirAll(filepath.Join(spool, procsDir), 0o700)
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(filepath.Join(spool, procsDir, strconv.Itoa(rec.PGID)+".json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := New(Options{Server: "s", SpoolDir: spool})
	write(procRecord{PGID: pid, Start: start + "0", Boot: boot, Argv0: "sleep"})
	if n := r.KillOrphans(); n != 0 || !running(pid) {
		t.Fatalf("a process whose start time differs was killed (n=%d)", n)
	}
	write(procRecord{PGID: pid, Start: start, Boot: boot, Argv0: "sleep"})
	if n := r.KillOrphans(); n != 1 {
		t.Fatalf("killed %d groups, want 1", n)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the recorded group is still running")
	}
	if ents, _ := os.ReadDir(filepath.Join(spool, procsDir)); len(ents) != 0 {
		t.Fatalf("records left: %v", ents)
	}
}

// While a command runs its group is recorded in the spool; the record goes when it ends.
func TestRunningCommandRecorded(t *testing.T) {
	spool := t.TempDir()
	r := New(Options{Server: "s", SpoolDir: spool, Policy: Policy{AllowExec: true}})
	res, err := r.Exec(context.Background(), Command{Line: "sleep 0.2; ls " + filepath.Join(spool, procsDir)})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("res=%+v err=%v", res, err)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(res.Output)), ".json") {
		t.Fatalf("no record while running: %q", res.Output)
	}
	if ents, _ := os.ReadDir(filepath.Join(spool, procsDir)); len(ents) != 0 {
		t.Fatalf("record left after the command ended: %v", ents)
	}
}

// As the child subreaper the agent adopts what a job leaves behind and collects it when it
// exits: no zombie stays, and the job's own exit status still reaches os/exec.
func TestReaperCollectsAdoptedProcesses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rp, err := StartReaper(ctx, nil)
	if err != nil {
		t.Skipf("cannot become the child subreaper here: %v", err)
	}
	r := New(Options{Server: "s", SpoolDir: t.TempDir(), Policy: Policy{AllowExec: true}, Reaper: rp})
	res, err := r.Exec(ctx, Command{Line: "sleep 0.5 >/dev/null 2>&1 & echo $!; exit 3"})
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("res=%+v err=%v", res, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(res.Output)))
	if err != nil {
		t.Fatalf("output %q", res.Output)
	}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if i := strings.LastIndexByte(string(b), ')'); i < 0 || !strings.Contains(string(b[i:]), " "+strconv.Itoa(os.Getpid())+" ") {
		t.Fatalf("the orphan was not adopted by the agent: %s", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			break // exited and reaped
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			t.Fatalf("the adopted process was not reaped: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
