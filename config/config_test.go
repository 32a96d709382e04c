package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type testOpts struct {
	Token   string   `toml:"token"`
	Retry   Duration `toml:"retry_interval"`
	Actions []struct {
		ID      string `toml:"id"`
		Command string `toml:"command"`
	} `toml:"actions"`
}

func (o *testOpts) Validate() error {
	var errs []error
	if o.Token == "bad" {
		errs = append(errs, errors.New("token must not be \"bad\""))
	}
	if o.Retry.D() < time.Second {
		errs = append(errs, errors.New("retry_interval must be at least 1s"))
	}
	return errors.Join(errs...)
}

func (o *testOpts) Lint(s Server, exec, shell, power bool) []Warning {
	if len(o.Actions) > 0 && !exec {
		return []Warning{{Key: "actions", Msg: "actions need allow_exec"}}
	}
	return nil
}

type testProtos struct{}

func (testProtos) Names() []string { return []string{"alpha", "beta"} }
func (testProtos) NewOptions(p string) (any, bool) {
	switch p {
	case "alpha":
		return &testOpts{Retry: Duration(time.Minute)}, true
	case "beta":
		return nil, true
	}
	return nil, false
}

func TestParseGood(t *testing.T) {
	src := `
[agent]
state_dir = "/tmp/x"
log_level = "debug"
max_backoff = "2h"

[jobs]
allow_exec = true
max_output = "2MiB"

[[server]]
name = "a"
protocol = "alpha"
url = "https://a.example/api"
interval = "90s"
token = "t"
allow_exec = false

[[server.actions]]
id = "reboot"
command = "reboot"

[[server]]
name = "b"
protocol = "beta"
`
	cfg, err := Parse([]byte(src), "agent.toml", testProtos{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Agent.MaxBackoff.D(); got != 2*time.Hour {
		t.Errorf("max_backoff = %v", got)
	}
	if cfg.Jobs.MaxOutput != 2<<20 {
		t.Errorf("max_output = %d", cfg.Jobs.MaxOutput)
	}
	if len(cfg.Servers) != 2 {
		t.Fatalf("servers = %d", len(cfg.Servers))
	}
	a := cfg.Servers[0]
	if a.Interval.D() != 90*time.Second || a.Line != 11 {
		t.Errorf("server a: interval %v line %d", a.Interval.D(), a.Line)
	}
	o := a.Options.(*testOpts)
	if o.Token != "t" || o.Retry.D() != time.Minute || len(o.Actions) != 1 || o.Actions[0].ID != "reboot" {
		t.Errorf("options = %+v", o)
	}
	exec, shell, _ := cfg.Policy(a)
	if exec || shell {
		t.Errorf("policy of a: exec %v shell %v, want both false (server override)", exec, shell)
	}
	if exec, _, _ := cfg.Policy(cfg.Servers[1]); !exec {
		t.Errorf("policy of b: exec should come from [jobs]")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
		wantKey  string
		wantMsg  string
	}{
		{"integer duration", "[agent]\nmax_backoff = 3600\n", 2, "agent.max_backoff", "no unit"},
		{"integer server interval", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\ninterval = 60\n", 4, "server.interval", "no unit"},
		{"bad duration", "[agent]\nsplay = \"ten seconds\"\n", 2, "agent.splay", "invalid duration"},
		{"unknown agent key", "[agent]\nlog_level = \"info\"\nlogfile = \"x\"\n", 3, "agent.logfile", "unknown key"},
		{"unknown table", "[agnet]\nx = 1\n", 1, "agnet", "unknown key"},
		{"unknown server key", "[[server]]\nname = \"a\"\nprotocol = \"alpha\"\nnmae = \"x\"\n", 4, "server.nmae", "unknown key"},
		{"unknown nested key", "[[server]]\nname = \"a\"\nprotocol = \"alpha\"\n[[server.actions]]\nid = \"x\"\ncmd = \"y\"\n", 6, "server.actions.cmd", "unknown key"},
		{"upper case key", "[agent]\nLOG_LEVEL = \"info\"\n", 2, "agent.LOG_LEVEL", "unknown key"},
		{"wrong type", "[agent]\nlog_level = 3\n", 2, "agent.log_level", "incompatible types"},
		{"wrong type bool", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\ninsecure_skip_verify = \"yes\"\n", 4, "server.insecure_skip_verify", "incompatible types"},
		{"missing name", "[[server]]\nprotocol = \"beta\"\n", 1, "name", "missing required key"},
		{"missing protocol", "\n[[server]]\nname = \"a\"\n", 2, "protocol", "missing required key"},
		{"unknown protocol", "[[server]]\nname = \"a\"\nprotocol = \"gamma\"\n", 3, "protocol", `unknown protocol "gamma" (known: alpha, beta)`},
		{"duplicate name", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\n\n[[server]]\nname = \"a\"\nprotocol = \"alpha\"\n", 6, "name", "duplicate server name \"a\" (first defined on line 1)"},
		{"syntax error", "[agent]\nlog_level = \"info\n", 2, "", ""},
		{"bad level", "[agent]\nlog_level = \"loud\"\n", 2, "agent.log_level", "invalid value"},
		{"nan jitter", "[agent]\njitter = nan\n", 2, "agent.jitter", "invalid value"},
		{"infinite size", "[jobs]\nmax_download = \"inf\"\n", 2, "jobs.max_download", "invalid size"},
		{"relative ca", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\nca_file = \"ca.pem\"\n", 4, "ca_file", "must be absolute"},
		{"cert without key", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\nclient_cert = \"/c.pem\"\n", 4, "client_cert", "go together"},
		{"url without scheme", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\nurl = \"glpi.example/front\"\n", 4, "url", "missing scheme"},
		{"protocol validation", "[[server]]\nname = \"a\"\nprotocol = \"alpha\"\ntoken = \"bad\"\n", 4, "token", `token must not be "bad"`},
		{"tiny request_timeout", "[[server]]\nname = \"a\"\nprotocol = \"beta\"\nrequest_timeout = \"10ms\"\n", 4, "request_timeout", "at least 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "agent.toml", testProtos{})
			if err == nil {
				t.Fatal("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, not *config.Error", err, err)
			}
			if ce.Line != tc.wantLine {
				t.Errorf("line = %d, want %d (%v)", ce.Line, tc.wantLine, err)
			}
			if tc.wantKey != "" && ce.Key != tc.wantKey {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.wantKey, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "agent.toml") {
				t.Errorf("message %q does not name the file", err.Error())
			}
		})
	}
}

func TestByteSizeAndDuration(t *testing.T) {
	sizes := map[string]int64{"4096": 4096, "10MB": 10_000_000, "1GiB": 1 << 30, "512 KiB": 512 << 10, "2k": 2048}
	for in, want := range sizes {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || int64(b) != want {
			t.Errorf("ByteSize(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "ten", "-5", "5XB", "inf", "nan", "-inf", "1e30", "9EiB"} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("ByteSize(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "60", "1.5", "-1s", "1 hour"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("Duration(%q) accepted", bad)
		}
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse(Default(), DefaultSource, testProtos{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 0 || cfg.Jobs.AllowExec || cfg.Jobs.AllowShell || cfg.Jobs.AllowPower {
		t.Errorf("embedded default must have no server and everything refused: %+v", cfg)
	}
	for goos, want := range map[string]string{"linux": "/etc/omniagent/agent.toml", "windows": `C:\ProgramData\omniagent\agent.toml`, "darwin": "/Library/Application Support/omniagent/agent.toml"} {
		if got := defaultPath(goos); got != want {
			t.Errorf("defaultPath(%s) = %q", goos, got)
		}
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.toml")
	if err := os.WriteFile(p, []byte("[agent]\nlog_format = \"json\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, testProtos{})
	if err != nil || cfg.Agent.LogFormat != "json" || cfg.Source != p {
		t.Fatalf("Load: %+v %v", cfg, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml"), testProtos{}); err == nil {
		t.Fatal("missing explicit file accepted")
	}
}

// Processes are an opt-in category: off by default, on when the config's list leaves them out.
func TestInventoryDisableDefault(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"", []string{"processes"}},
		{"[inventory]\ndisable = []\n", []string{}},
		{"[inventory]\ndisable = [\"software\"]\n", []string{"software"}},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(tt.src), "t.toml", testProtos{})
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if !slices.Equal(cfg.Inventory.Disable, tt.want) {
			t.Errorf("%q: disable = %q, want %q", tt.src, cfg.Inventory.Disable, tt.want)
		}
		if got := cfg.Inventory.Disabled(); !slices.Equal(got, append(tt.want, "envs")) {
			t.Errorf("%q: Disabled() = %q, want envs appended", tt.src, got)
		}
	}
	cfg, err := Parse([]byte("[inventory]\nenvs = true\n"), "t.toml", testProtos{})
	if err != nil || slices.Contains(cfg.Inventory.Disabled(), "envs") {
		t.Errorf("envs = true: Disabled() = %q, %v", cfg.Inventory.Disabled(), err)
	}
}

// TestParseEveryError checks that one run reports every error of a file, each at its key.
func TestParseEveryError(t *testing.T) {
	src := `[agent]
log_level = "loud"
splay = "1s"
logfile = "x"

[[server]]
name = "a"
protocol = "alpha"
token = "bad"
retry_interval = "1ms"
tokn = "t"

[[server]]
name = "b"
protocol = "beta"
url = "no-scheme"
tokn = "u"

[[server]]
name = "c"
protocol = "gamma"
`
	_, err := Parse([]byte(src), "agent.toml", testProtos{})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v is %T, not config.Errors", err, err)
	}
	want := []struct {
		line int
		key  string
	}{{2, "agent.log_level"}, {4, "agent.logfile"}, {9, "token"}, {10, "retry_interval"}, {11, "server.tokn"}, {16, "url"}, {17, "server.tokn"}, {21, "protocol"}}
	if len(es) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if es[i].Line != w.line || es[i].Key != w.key {
			t.Errorf("error %d = line %d key %q, want line %d key %q (%v)", i, es[i].Line, es[i].Key, w.line, w.key, es[i])
		}
	}
}

func TestWarnings(t *testing.T) {
	src := "[[server]]\nname = \"a\"\nprotocol = \"alpha\"\n\n[[server.actions]]\nid = \"x\"\ncommand = \"y\"\n"
	cfg, err := Parse([]byte(src), "agent.toml", testProtos{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Line != 5 || !strings.Contains(cfg.Warnings[0].Error(), "actions need allow_exec") {
		t.Fatalf("warnings = %v", cfg.Warnings)
	}
	cfg, err = Parse([]byte("[jobs]\nallow_exec = true\n"+src), "agent.toml", testProtos{})
	if err != nil || len(cfg.Warnings) != 0 {
		t.Fatalf("with allow_exec: %v %v", cfg.Warnings, err)
	}
}

// TestManyErrorsBounded: a file with thousands of errors reports the first MaxErrors only (each
// one scans the file for its line).
func TestManyErrorsBounded(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "[[server]]\nname = \"s%d\"\nprotocol = \"beta\"\nurl = \"bad\"\nbogus%d = 1\n", i, i)
	}
	_, err := Parse([]byte(b.String()), "big.toml", testProtos{})
	var es Errors
	if !errors.As(err, &es) || len(es) != MaxErrors {
		t.Fatalf("%d errors: %v", len(es), err)
	}
}
