package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to Parse: a config file is operator input, so any content must
// end in either a valid config or a *config.Error naming the file, never a panic.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"[agent]\nstate_dir = \"/tmp/x\"\nlog_level = \"debug\"\nmax_backoff = \"2h\"\n",
		"[jobs]\nallow_exec = true\nmax_output = \"2MiB\"\nmax_download = \"1.5GiB\"\ntimeout = \"30m\"\n",
		"[inventory]\nttl = \"5m\"\ncategory_timeout = \"10s\"\ndisable = [\"processes\", \"software\"]\n",
		"[agent]\njitter = 0.2\nsplay = \"30s\"\nmemory_limit = \"256MiB\"\nlog_format = \"json\"\n",
		"[[server]]\nname = \"a\"\nprotocol = \"alpha\"\nurl = \"https://a.example/api\"\ninterval = \"90s\"\ntoken = \"t\"\nallow_exec = false\n\n[[server.actions]]\nid = \"reboot\"\ncommand = \"reboot\"\n\n[[server]] # second\nname = \"b\"\nprotocol = \"beta\"\n",
		"[[server]]\nname = \"a\"\nprotocol = \"beta\"\nca_file = \"/etc/ca.pem\"\nclient_cert = \"/c.pem\"\nclient_key = \"/k.pem\"\nproxy = \"http://proxy:3128\"\ntimeout = \"1m\"\nmax_response = \"64MB\"\n",
		"[[ server ]]\n\"name\" = 'quoted'\nprotocol = \"beta\"\ndisabled = true\n",
		"[agent]\nmax_backoff = 3600\n",
		"[agent]\nlog_level = \"info\n",
		"[agnet]\nx = 1\n",
		"[[server]]\nname = \"a\"\nprotocol = \"beta\"\n\n[[server]]\nname = \"a\"\nprotocol = \"alpha\"\n",
		"[[server]]\nname = \"a\"\nprotocol = \"alpha\"\n[[server.actions]]\nid = \"x\"\ncmd = \"y\"\n",
		"[agent]\nLOG_LEVEL = \"info\"\n",
		"[jobs]\nmax_output = \"inf\"\nmax_download = \"1e400\"\n",
		"server = 3\nagent = \"x\"\n",
		"[server]\nname = \"a\"\n",
		"a.b.c.d = 1\n[x.\"y\".z]\n",
		"[[server]]\nname = \"a\"\nprotocol = \"alpha\"\nretry_interval = \"-1s\"\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add(Default())
	// The documented example names real protocols the test registry lacks: a good seed all the
	// same, for its shape. Missing in a trimmed checkout is fine.
	if data, err := os.ReadFile(filepath.Join("..", "agent.toml.example")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const source = "fuzz.toml"
		cfg, err := Parse(data, source, testProtos{})
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned both a config and an error: %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, not *config.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), source) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		// What validate promises must hold for every accepted config.
		if cfg.Source != source {
			t.Errorf("source = %q", cfg.Source)
		}
		if j := cfg.Agent.Jitter; !(j >= 0 && j < 1) {
			t.Errorf("accepted jitter %v", j)
		}
		for name, b := range map[string]ByteSize{"memory_limit": cfg.Agent.MemoryLimit, "max_output": cfg.Jobs.MaxOutput, "max_download": cfg.Jobs.MaxDownload} {
			if b < 0 {
				t.Errorf("accepted a negative %s: %d", name, b)
			}
		}
		if cfg.Agent.MaxBackoff.D() < time.Second {
			t.Errorf("accepted max_backoff %v", cfg.Agent.MaxBackoff.D())
		}
		names := map[string]bool{}
		for _, s := range cfg.Servers {
			if s.Name == "" || s.Protocol == "" || names[s.Name] {
				t.Errorf("accepted server %+v (empty or duplicate name, or empty protocol)", s)
			}
			names[s.Name] = true
			if (s.ClientCert == "") != (s.ClientKey == "") {
				t.Errorf("accepted client_cert without client_key: %+v", s)
			}
		}
	})
}
