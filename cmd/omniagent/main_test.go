package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/omniagent/omniagent/protocols/all"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig"
	"github.com/omniagent/omniagent/status"
)

// testProto is an adapter defined in the test: it succeeds or fails as its options say.
type testOpts struct {
	Fail    bool `toml:"fail"`
	JobFail bool `toml:"job_fail"`
}

type testAdapter struct{ fail, jobFail bool }

func (a testAdapter) Cycle(context.Context) (protocols.Result, error) {
	if a.fail {
		return protocols.Result{}, errors.New("server answered 500")
	}
	if a.jobFail {
		return protocols.Result{Summary: "1 job run"}, fmt.Errorf("deploy: %w", protocols.JobFailure(errors.New("job 7: exit status 2")))
	}
	return protocols.Result{Summary: "hello sent", Next: 2 * time.Minute, Details: map[string]string{"registration": "accepted"}}, nil
}

func testEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	reg := protocols.NewRegistry()
	reg.Register(protocols.Protocol{
		Name:            "test",
		NewOptions:      func() any { return &testOpts{} },
		DefaultInterval: time.Minute,
		New: func(d protocols.Deps) (protocols.Adapter, error) {
			o := d.Server.Options.(*testOpts)
			return testAdapter{fail: o.Fail, jobFail: o.JobFail}, nil
		},
	})
	var out, errb bytes.Buffer
	return &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), reg: reg}, &out, &errb
}

func writeConfig(t *testing.T, servers string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.toml")
	src := fmt.Sprintf("[agent]\nstate_dir = %q\nsplay = \"1s\"\n\n%s", filepath.Join(dir, "state"), servers)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOneshotExitCodes(t *testing.T) {
	ok := "[[server]]\nname = \"one\"\nprotocol = \"test\"\n"
	bad := ok + "\n[[server]]\nname = \"two\"\nprotocol = \"test\"\nfail = true\n"
	tests := []struct {
		name     string
		servers  string
		wantCode int
		wantOut  []string
	}{
		{"all ok", ok, 0, []string{"one", "test", "ok", "hello sent"}},
		{"one failed", bad, 1, []string{"one", "two", "failed", "server answered 500"}},
		{"job failed", ok + "\n[[server]]\nname = \"two\"\nprotocol = \"test\"\njob_fail = true\n", 3, []string{"two", "ok, 1 job failed", "1 job run (deploy: job 7: exit status 2)"}},
		{"job and exchange failed", bad + "\n[[server]]\nname = \"three\"\nprotocol = \"test\"\njob_fail = true\n", 1, []string{"ok, 1 job failed", "failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := testEnv()
			cfg := writeConfig(t, tc.servers)
			code := dispatch(context.Background(), e, []string{"--oneshot", "--config", cfg, "--log-level", "error"})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errb)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// status reads what the run recorded.
			e2, out2, _ := testEnv()
			if code := dispatch(context.Background(), e2, []string{"status", "--config", cfg}); code != 0 {
				t.Fatalf("status exit %d", code)
			}
			if !regexp.MustCompile(`one \(test\)\n  last cycle: +\d{4}-\d\d-\d\d [0-9:]+ \(now\), ok: hello sent\n(.|\n)*  registration: +accepted`).MatchString(out2.String()) {
				t.Errorf("status output:\n%s", out2)
			}
			// The same as JSON, with the result each server's last cycle had.
			e3, out3, _ := testEnv()
			if code := dispatch(context.Background(), e3, []string{"--config", cfg, "status", "--json"}); code != 0 {
				t.Fatalf("status --json exit %d", code)
			}
			var rep status.Report
			if err := json.Unmarshal(out3.Bytes(), &rep); err != nil {
				t.Fatalf("status --json: %v\n%s", err, out3)
			}
			if rep.SchemaVersion != 1 || rep.Source != "state" || len(rep.Servers) == 0 || rep.Servers[0].State != "ok" || len(rep.Servers[0].Schedule) != 0 || rep.Servers[0].NextRun.IsZero() {
				t.Errorf("status --json: %+v", rep)
			}
			for _, srv := range rep.Servers[1:] {
				want := map[string]string{"two": "failed", "three": "ok, 1 job failed"}[srv.Name]
				if tc.name == "job failed" {
					want = "ok, 1 job failed"
				}
				if srv.State != want || srv.LastRun.IsZero() {
					t.Errorf("server %s: state %q, want %q", srv.Name, srv.State, want)
				}
			}
		})
	}
}

func TestOneshotWithoutServersPrintsInventory(t *testing.T) {
	e, out, errb := testEnv()
	p := filepath.Join(t.TempDir(), "agent.toml")
	os.WriteFile(p, []byte("[agent]\nlog_level = \"warn\"\n"), 0o600)
	if code := dispatch(context.Background(), e, []string{"run", "--oneshot", "--config", p}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	host, _ := os.Hostname()
	if !strings.Contains(out.String(), "inventory only") || !strings.Contains(out.String(), strings.SplitN(host, ".", 2)[0]) {
		t.Fatalf("output:\n%s", out)
	}
}

func TestCLIErrors(t *testing.T) {
	badCfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(badCfg, []byte("[agent]\nlog_level = \"info\"\nintervall = \"1h\"\n"), 0o600)
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"run", "--force-update"}, 2, "go with --oneshot"},
		{[]string{"--oneshot", "--config", badCfg}, 2, `bad.toml:3: key "agent.intervall": unknown key`},
		{[]string{"config", "check", badCfg}, 2, "unknown key"},
		{[]string{"--config"}, 2, "flag needs an argument"},
		{[]string{"run", "--service", "--oneshot"}, 2, "--service and --oneshot"},
		{[]string{"config"}, 2, "Usage"},
		{[]string{"inventory", "--format", "yaml"}, 2, "unknown format"},
		{[]string{"--oneshot", "--config", "/nonexistent/agent.toml"}, 2, "read config"},
		{[]string{"--config", "/nonexistent/agent.toml", "status"}, 2, "read config"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			e, _, errb := testEnv()
			if code := dispatch(context.Background(), e, tc.args); code != tc.code {
				t.Fatalf("exit %d, want %d (%s)", code, tc.code, errb)
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("stderr %q lacks %q", errb, tc.wantErr)
			}
		})
	}
}

func TestHelpOnEverySubcommand(t *testing.T) {
	for _, c := range commands() {
		e, out, _ := testEnv()
		if code := dispatch(context.Background(), e, []string{c.name, "--help"}); code != 0 {
			t.Errorf("%s --help: exit %d", c.name, code)
		}
		if !strings.Contains(out.String(), "Usage: omniagent") {
			t.Errorf("%s --help printed %q", c.name, out)
		}
	}
}

func TestConfigCheckAndVersion(t *testing.T) {
	e, out, errb := testEnv()
	cfg := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\ninsecure_skip_verify = true\n")
	if code := dispatch(context.Background(), e, []string{"config", "check", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for _, w := range []string{"OK", "one", "1m0s (default)", "WARNING: TLS verification disabled"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("config check output lacks %q:\n%s", w, out)
		}
	}
	e, out, _ = testEnv()
	if code := dispatch(context.Background(), e, []string{"version"}); code != 0 || !strings.Contains(out.String(), "omniagent ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestConfigCheckShowsHeartbeatInterval: for MIG, config check shows the interval the
// scheduler really uses, the heartbeat period, not the 5 min default.
func TestConfigCheckShowsHeartbeatInterval(t *testing.T) {
	e, out, errb := testEnv()
	e.reg.Register(mig.Protocol())
	cfg := writeConfig(t, "[[server]]\nname = \"m\"\nprotocol = \"mig\"\nrelay = \"amqp://u:p@127.0.0.1:5672/\"\nheartbeat_transport = \"amqp\"\nheartbeat_interval = \"1m\"\n")
	if code := dispatch(context.Background(), e, []string{"config", "check", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "1m0s (heartbeat)") || strings.Contains(out.String(), "5m0s") {
		t.Errorf("config check shows another interval than the 1m heartbeat:\n%s", out)
	}
}

func TestDaemonStopsOnCancel(t *testing.T) {
	e, _, errb := testEnv()
	cfg := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- dispatch(ctx, e, []string{"run", "--config", cfg, "--log-level", "error"}) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("daemon exit %d: %s", code, errb)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop within 10 s of cancellation")
	}
}

// TestGlobalFlagsEitherSide checks that --config, --log-level and --state-dir work before the
// command as well as after it.
func TestGlobalFlagsEitherSide(t *testing.T) {
	cfg := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\n")
	state := filepath.Join(t.TempDir(), "other-state")
	for _, args := range [][]string{
		{"--config", cfg, "--log-level", "error", "run", "--oneshot"},
		{"--config=" + cfg, "--log-level=error", "--oneshot"},
		{"run", "--oneshot", "--config", cfg, "--log-level", "error"},
		{"--log-level", "error", "--state-dir", state, "run", "--oneshot", "--config", cfg},
		{"--config", cfg, "status"},
		{"status", "--config", cfg},
		{"--config", cfg, "config", "check"},
		{"--config", cfg, "version"},
	} {
		e, out, errb := testEnv()
		if code := dispatch(context.Background(), e, args); code != 0 {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, errb)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "status", "one.json")); err != nil {
		t.Errorf("--state-dir before the command was not used: %v", err)
	}
	e, out, _ := testEnv()
	if code := dispatch(context.Background(), e, []string{"--help"}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, w := range []string{"[global flags] [command]", "--config FILE", "--state-dir DIR", "3  every exchange worked but a job"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("--help lacks %q:\n%s", w, out)
		}
	}
}

// TestConfigCheckEveryError checks that config check lists every error at its line, exit 2,
// and warns about contradictory settings.
func TestConfigCheckEveryError(t *testing.T) {
	e, _, errb := testEnv()
	p := writeConfig(t, "[[server]]\nname = \"one\"\nprotocol = \"test\"\nfial = true\nurl = \"nowhere\"\n")
	if code := dispatch(context.Background(), e, []string{"config", "check", p}); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, errb)
	}
	// writeConfig adds four lines before the servers.
	for _, w := range []string{`agent.toml:8: key "server.fial": unknown key`, `agent.toml:9: key "url"`, "2 errors"} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("config check lacks %q:\n%s", w, errb)
		}
	}
}

// TestConfigCheckRealProtocols checks the warnings and effective schedules the real adapters
// give: MIG's heartbeat, RDFM's shell without allow_shell, OCO's plain http.
func TestConfigCheckRealProtocols(t *testing.T) {
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), reg: all.Registry()}
	p := writeConfig(t, `[[server]]
name = "mig"
protocol = "mig"
url = "https://mig.example/api/v1"
relay = "amqp://agent:pw@127.0.0.1:5672/mig"
heartbeat_interval = "2m"

[[server]]
name = "rdfm"
protocol = "rdfm"
url = "https://rdfm.example"
shell = true
install_command = ["/bin/true", "{file}"]

[[server]]
name = "oco"
protocol = "oco"
url = "http://oco.example/api-agent.php"
`)
	if code := dispatch(context.Background(), e, []string{"config", "check", p}); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, w := range []string{
		"(3 warnings)",
		`agent.toml:16: key "shell": server "rdfm": shell = true without allow_shell`,
		`agent.toml:17: key "install_command"`,
		`agent.toml:22: key "url": server "oco": an http:// URL is refused unless allow_plain_http`,
		"mig: heartbeat every 2m0s over http",
		"2m0s (heartbeat)",
		"rdfm: update check every 15m0s",
		"oco: hello every 1m0s",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("config check lacks %q:\n%s", w, out.String())
		}
	}
}
