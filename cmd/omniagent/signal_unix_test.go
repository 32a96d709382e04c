//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMStopsDaemon runs the real binary as a daemon and stops it with SIGTERM, as systemd
// and launchd do.
func TestSIGTERMStopsDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildAgent(t, dir)
	cfg := filepath.Join(dir, "agent.toml")
	os.WriteFile(cfg, []byte("[agent]\nlog_level = \"info\"\n"), 0o600)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "--config", cfg)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v: exit %v\n%s", sig, err, stderr.String())
			}
			if !bytes.Contains(stderr.Bytes(), []byte("omniagent stopped")) {
				t.Errorf("%v: no clean-stop log line:\n%s", sig, stderr.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: still running 10 s after the signal", sig)
		}
	}
}
