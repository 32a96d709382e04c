package oco_test

import (
	"context"
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

// TestOrphanHelperAgent is the agent process of TestKilledAgentJobLeavesNothing: it runs one
// --oneshot cycle with the config it is given, until it is killed.
func TestOrphanHelperAgent(t *testing.T) {
	path := os.Getenv("OMNIAGENT_ORPHAN_HELPER_CONFIG")
	if path == "" {
		t.Skip("helper process only")
	}
	reg := protocols.NewRegistry()
	reg.Register(oco.Protocol())
	cfg, err := config.Load(path, reg)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	a, err := agent.Build(context.Background(), cfg, newTestLogger(t), agent.Options{Registry: reg, Run: protocols.Options{Oneshot: true}})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	a.Oneshot(context.Background())
	os.Exit(0)
}

// kill -9 of the agent during a job: the restarted agent kills what is left of the job before
// reporting it interrupted, so its side effects never happen after the server was told.
func TestKilledAgentJobLeavesNothing(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	dir := t.TempDir()
	started, effect := filepath.Join(dir, "started"), filepath.Join(dir, "effect")
	e.fake.AddJob(ocofake.Job{ID: 50, ContainerID: 12, Hostname: "orphan-host",
		Procedure: fmt.Sprintf("echo x > %s; sleep 3; echo late > %s", started, effect)})
	path := oneshotConfig(t, e, "orphan-host")

	child := exec.Command(os.Args[0], "-test.run=^TestOrphanHelperAgent$")
	child.Env = append(os.Environ(), "OMNIAGENT_ORPHAN_HELPER_CONFIG="+path)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		if b, _ := os.ReadFile(started); string(b) == "x\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job never started in the agent process")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no cleanup of any kind
		t.Fatal(err)
	}
	child.Wait()

	// The restarted agent.
	reg := protocols.NewRegistry()
	reg.Register(oco.Protocol())
	cfg, err := config.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := agent.Build(ctx, cfg, newTestLogger(t), agent.Options{Registry: reg, Run: protocols.Options{Oneshot: true}})
	if err != nil {
		t.Fatal(err)
	}
	if out := a.Oneshot(ctx); len(out) != 1 || out[0].Err != nil {
		t.Fatalf("outcomes = %+v", out)
	}
	j, _ := e.fake.Job(50)
	if j.State != -1 || j.ReturnCode == nil || *j.ReturnCode != -9999 || !strings.Contains(j.Message, "interrupted") {
		t.Errorf("job after restart = %+v", j)
	}
	time.Sleep(4 * time.Second) // past the procedure's sleep
	if _, err := os.Stat(effect); err == nil {
		t.Fatal("the killed agent's job went on and wrote its file after the restart")
	}
}
