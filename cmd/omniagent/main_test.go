package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// testProto is an adapter defined in the test: it succeeds or fails as its options say.
type testOpts struct {
	Fail bool `toml:"fail"`
}

type testAdapter struct{ fail bool }

func (a testAdapter) Cycle(context.Context) (protocols.Result, error) {
	if a.fail {
		return protocols.Result{}, errors.New("server answered 500")
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
			return testAdapter{fail: d.Server.Options.(*testOpts).Fail}, nil
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
			if !strings.Contains(out2.String(), "one") || !strings.Contains(out2.String(), "registration: accepted") {
				t.Errorf("status output:\n%s", out2)
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
		{[]string{"run", "--service", "--oneshot"}, 2, "--service and --oneshot"},
		{[]string{"--oneshot", "--config", badCfg}, 1, `bad.toml:3: key "agent.intervall": unknown key`},
		{[]string{"config", "check", badCfg}, 1, "unknown key"},
		{[]string{"config"}, 2, "Usage"},
		{[]string{"inventory", "--format", "yaml"}, 2, "unknown format"},
		{[]string{"--oneshot", "--config", "/nonexistent/agent.toml"}, 1, "read config"},
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
