package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/control"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

// gate is a test protocol whose cycles wait for the test to let them finish.
type gate struct {
	entered chan string
	release chan error
}

func (g *gate) Cycle(ctx context.Context) (protocols.Result, error) {
	g.entered <- "cycle"
	select {
	case err := <-g.release:
		return protocols.Result{Summary: "gate passed"}, err
	case <-ctx.Done():
		return protocols.Result{}, ctx.Err()
	}
}

// daemonEnv is a registry with GLPI and the gate protocol, and a short state folder (the
// control socket's path must stay under ~104 bytes).
func daemonEnv(t *testing.T, g *gate, servers string) (*env, *bytes.Buffer, *bytes.Buffer, string) {
	t.Helper()
	reg := protocols.NewRegistry()
	reg.Register(glpi.Protocol())
	reg.Register(protocols.Protocol{
		Name: "gate", DefaultInterval: time.Hour,
		New: func(protocols.Deps) (protocols.Adapter, error) { return g, nil },
	})
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), reg: reg}
	dir, err := os.MkdirTemp("", "oa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := filepath.Join(dir, "agent.toml")
	// An hour of splay: no cycle runs at start, only the triggers make them run.
	src := fmt.Sprintf("[agent]\nstate_dir = %q\nsplay = \"1h\"\nlog_level = \"warn\"\n\n[inventory]\ndisable = [\"processes\", \"software\"]\n\n%s", filepath.Join(dir, "s"), servers)
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, &out, &errb, cfg
}

// startDaemon runs the agent as `omniagent run` does, until the test ends.
func startDaemon(t *testing.T, e *env, cfgPath string) *config.Config {
	t.Helper()
	cfg, err := config.Load(cfgPath, e.reg)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := agent.NewLogger(&bytes.Buffer{}, "warn", "text")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.Build(ctx, cfg, log, agent.Options{Registry: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for i := 0; ; i++ {
		if _, ok := control.Answers(context.Background(), stateDir(cfg)); ok {
			return cfg
		}
		if i > 200 {
			t.Fatal("the daemon never answered on its control channel")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTriggerReachesTheServer(t *testing.T) {
	f, err := glpifake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, out, errb, cfgPath := daemonEnv(t, nil, fmt.Sprintf("[[server]]\nname = \"glpi\"\nprotocol = \"glpi\"\nurl = %q\n", f.URL+"/front/inventory.php"))
	startDaemon(t, e, cfgPath)

	// --oneshot would fight the daemon: it refuses and points to trigger.
	if code := dispatch(context.Background(), e, []string{"--oneshot", "--config", cfgPath}); code != 1 || !strings.Contains(errb.String(), "use `omniagent trigger`") {
		t.Fatalf("--oneshot beside the daemon: exit %d\n%s", code, errb)
	}
	errb.Reset()

	start := time.Now()
	code := dispatch(context.Background(), e, []string{"trigger", "--config", cfgPath, "--force-update"})
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("trigger: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	for _, w := range []string{"SERVER", "glpi", "ok", "full inventory sent"} {
		if !strings.Contains(out.String(), w) {
			t.Fatalf("trigger output lacks %q:\n%s", w, out)
		}
	}
	var contacts, invs int
	f.Get(func(s *glpifake.Server) { contacts, invs = len(s.Contacts), len(s.Inventories) })
	if contacts != 1 || invs != 1 {
		t.Fatalf("the server got %d contacts, %d inventories; want 1 and 1", contacts, invs)
	}
	if took > 2*time.Second {
		t.Fatalf("trigger took %v, want the server reached within 2 s", took)
	}
	t.Logf("trigger: CONTACT and INVENTORY in %v", took.Round(time.Millisecond))

	// status asks the daemon first.
	out.Reset()
	if code := dispatch(context.Background(), e, []string{"status", "--config", cfgPath}); code != 0 || !strings.Contains(out.String(), "daemon: running") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	// An unknown server is the daemon's error, exit 1.
	errb.Reset()
	if code := dispatch(context.Background(), e, []string{"trigger", "--config", cfgPath, "--server", "nope"}); code != 1 || !strings.Contains(errb.String(), `no enabled server named "nope"`) {
		t.Fatalf("unknown server: exit %d\n%s", code, errb)
	}
}

func TestSecondTriggerWaitsForTheRunningOne(t *testing.T) {
	g := &gate{entered: make(chan string, 4), release: make(chan error)}
	e, _, _, cfgPath := daemonEnv(t, g, "[[server]]\nname = \"g\"\nprotocol = \"gate\"\n")
	cfg := startDaemon(t, e, cfgPath)
	type result struct {
		code int
		out  string
		at   time.Time
	}
	trigger := func(ch chan<- result) {
		var out, errb bytes.Buffer
		e2 := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), reg: e.reg}
		code := dispatch(context.Background(), e2, []string{"trigger", "--config", cfgPath})
		ch <- result{code, out.String() + errb.String(), time.Now()}
	}
	first, second := make(chan result, 1), make(chan result, 1)
	go trigger(first)
	<-g.entered // the first cycle runs
	go trigger(second)
	// The second request is queued behind the running cycle.
	for i := 0; ; i++ {
		l, _ := control.Answers(context.Background(), stateDir(cfg))
		if l != nil && len(l.Servers) == 1 && l.Servers[0].Running && l.Servers[0].Pending == 1 {
			break
		}
		if i > 200 {
			t.Fatalf("the second trigger never queued: %+v", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case r := <-second:
		t.Fatalf("the second trigger returned while the first cycle runs: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	g.release <- nil // the first cycle ends
	r1 := <-first
	<-g.entered // then the second trigger's own cycle runs
	g.release <- fmt.Errorf("server answered 500")
	r2 := <-second
	if r1.code != 0 || !strings.Contains(r1.out, "gate passed") {
		t.Fatalf("first trigger: %+v", r1)
	}
	// Same exit codes as --oneshot: 1 when a server failed.
	if r2.code != 1 || !strings.Contains(r2.out, "server answered 500") || r2.at.Before(r1.at) {
		t.Fatalf("second trigger: %+v (first ended %v)", r2, r1.at)
	}
}

func TestTriggerWithoutDaemon(t *testing.T) {
	e, _, errb, cfgPath := daemonEnv(t, nil, "")
	if code := dispatch(context.Background(), e, []string{"trigger", "--config", cfgPath}); code != 1 || !strings.Contains(errb.String(), "no omniagent daemon answers") {
		t.Fatalf("exit %d\n%s", code, errb)
	}
}
