//go:build linux

// Runs the real collectors and a sh job: Linux (the CI platform) only.

package oco_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
)

func oneshotConfig(t *testing.T, e *testEnv, hostname string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.toml")
	cfg := fmt.Sprintf(`[agent]
state_dir = %q
hostname = %q
splay = "0s"

[[server]]
name = "oco-cli"
protocol = "oco"
url = %q
ca_file = %q
registration_key = %q
allow_exec = true
`, e.stateDir, hostname, e.fake.URL(), e.caFile, regKey)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOneshotThroughAgent runs the CLI's path (config file, agent.Build, Oneshot) against the
// fake server with the real collectors.
func TestOneshotThroughAgent(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.fake.AddJob(ocofake.Job{ID: 1, ContainerID: 1, Hostname: "cli-host", Procedure: "echo from-oneshot"})
	reg := protocols.NewRegistry()
	reg.Register(oco.Protocol())
	path := oneshotConfig(t, e, "cli-host")
	cfg, err := config.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := agent.Build(ctx, cfg, newTestLogger(t), agent.Options{Registry: reg, Run: protocols.Options{Oneshot: true, ForceUpdate: true}})
	if err != nil {
		t.Fatal(err)
	}
	out := a.Oneshot(ctx)
	if len(out) != 1 || out[0].Err != nil {
		t.Fatalf("outcomes = %+v", out)
	}
	if s := out[0].Result.Summary; !strings.Contains(s, "hello ok (hmac)") || !strings.Contains(s, "inventory sent") || !strings.Contains(s, "jobs: 1 succeeded") {
		t.Errorf("summary = %q", s)
	}
	if j, _ := e.fake.Job(1); j.State != 3 || !strings.Contains(j.Message, "from-oneshot") {
		t.Errorf("job = %+v", j)
	}
	if errs := e.fake.SchemaErrors(); len(errs) > 0 {
		t.Errorf("this machine's real inventory has fields of the wrong type: %v", errs)
	}
}

// TestOneshotBinary builds omniagent and runs `omniagent --oneshot` against the fake server.
func TestOneshotBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "omniagent")
	build := exec.Command("go", "build", "-o", bin, "./cmd/omniagent")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("go build ./cmd/omniagent: %v\n%s", err, out)
		}
		t.Skipf("go build ./cmd/omniagent failed (another package may be mid-change): %v\n%s", err, out)
	}
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	path := oneshotConfig(t, e, "bin-host")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--oneshot", "--config", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err != nil {
		t.Fatalf("omniagent --oneshot: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	line := ""
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "oco-cli") {
			line = l
		}
	}
	if !strings.Contains(line, " oco ") || !strings.Contains(line, " ok ") || !strings.Contains(line, "hello ok (hmac)") {
		t.Errorf("summary line = %q\nstdout:\n%s", line, stdout.String())
	}
	// The CLI exits non-zero when the server refuses.
	e2 := newEnv(t, ocofake.Options{SelfRegistration: false})
	stdout.Reset()
	cmd = exec.CommandContext(ctx, bin, "--oneshot", "--config", oneshotConfig(t, e2, "bin-host"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stdout.String(), "Client self-registration is disabled") {
		t.Errorf("refused oneshot: %v\n%s", err, stdout.String())
	}
}
