package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/shutdown"
)

func TestServiceConfig(t *testing.T) {
	o := Options{ConfigPath: "/srv/omni.toml"}
	tests := []struct {
		goos, exe, file string
		args            string
		definition      []string // lines the unit/plist must have
		auto            bool
		restart, reset  time.Duration
	}{
		{goos: "linux", exe: "/usr/bin/omniagent", file: "/etc/systemd/system/omniagent.service", args: "run --config /srv/omni.toml",
			definition: []string{"ExecStart=/usr/bin/omniagent run --config /srv/omni.toml\n", "Restart=on-failure\n", "RestartSec=10s\n", "WantedBy=multi-user.target\n"}},
		{goos: "darwin", exe: "/usr/local/bin/omniagent", file: "/Library/LaunchDaemons/omniagent.plist", args: "run --config /srv/omni.toml",
			definition: []string{"<key>Label</key>\n\t<string>omniagent</string>", "<string>/usr/local/bin/omniagent</string>\n\t\t<string>run</string>\n\t\t<string>--config</string>\n\t\t<string>/srv/omni.toml</string>",
				"<key>RunAtLoad</key>\n\t<true/>", "<key>KeepAlive</key>\n\t<true/>"}},
		// explicit service mode: Wine's SCM defeats detection
		{goos: "windows", exe: `C:\Program Files\omniagent\omniagent.exe`, args: "run --service --config /srv/omni.toml",
			auto: true, restart: 10 * time.Second, reset: 86400 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.goos, func(t *testing.T) {
			o.Executable = tt.exe
			c, err := ServiceConfig(tt.goos, o)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "omniagent" || c.DisplayName != "omniagent" || c.Description == "" || c.Executable != tt.exe {
				t.Errorf("name %q display %q description %q exe %q", c.Name, c.DisplayName, c.Description, c.Executable)
			}
			if got := strings.Join(c.Arguments, " "); got != tt.args {
				t.Errorf("arguments %q, want %q", got, tt.args)
			}
			if c.File != tt.file {
				t.Errorf("file %q, want %q", c.File, tt.file)
			}
			for _, l := range tt.definition {
				if !strings.Contains(c.Definition, l) {
					t.Errorf("definition lacks %q:\n%s", l, c.Definition)
				}
			}
			if tt.goos == "windows" && c.Definition != "" {
				t.Errorf("windows definition %q: the SCM keeps it", c.Definition)
			}
			if c.AutoStart != tt.auto || c.RestartDelay != tt.restart || c.FailureReset != tt.reset {
				t.Errorf("auto %v restart %s reset %s, want %v %s %s", c.AutoStart, c.RestartDelay, c.FailureReset, tt.auto, tt.restart, tt.reset)
			}
		})
	}
	if c, err := ServiceConfig("windows", Options{Executable: `C:\omniagent.exe`}); err != nil || strings.Join(c.Arguments, " ") != "run --service" {
		t.Errorf("default windows arguments %v (%v), want run --service", c.Arguments, err)
	}
	if !ServiceMode(true) {
		t.Error("ServiceMode(true) is false: the flag must win over detection")
	}
	if _, err := ServiceConfig("linux", Options{Executable: "omniagent"}); err == nil {
		t.Error("relative executable accepted")
	}
	if _, err := ServiceConfig("plan9", Options{Executable: "/bin/omniagent"}); err == nil {
		t.Error("a system without service manager support accepted")
	}
}

func TestProgramStartStop(t *testing.T) {
	started := make(chan struct{})
	p := &Program{Run: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Error("second Start accepted")
	}
	<-started
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("agent goroutine still running after Stop")
	}
}

func TestProgramErrors(t *testing.T) {
	if err := (&Program{}).Start(); err == nil {
		t.Error("Start without Run accepted")
	}
	boom := errors.New("boom")
	p := &Program{Run: func(ctx context.Context) error { <-ctx.Done(); return boom }}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); !errors.Is(err, boom) {
		t.Errorf("Stop = %v, want boom", err)
	}
	if err := (&Program{}).Stop(); err != nil {
		t.Errorf("Stop before Start = %v", err)
	}
}

func TestAction(t *testing.T) {
	for _, tt := range []struct {
		c    uint32
		want act
	}{{ctlStop, actStop}, {ctlShutdown, actShutdown}, {ctlPreShutdown, actShutdown}, {ctlInterrogate, actInterrogate}, {2, actIgnore}} {
		if got := action(tt.c); got != tt.want {
			t.Errorf("action(%#x) = %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestPrepareDirsAndPurge(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "etc", "agent.toml")
	st := filepath.Join(dir, "state")
	wrote, err := PrepareDirs(cfg, st, []byte("x = 1\n"))
	if err != nil || !wrote {
		t.Fatalf("first PrepareDirs: wrote=%v err=%v", wrote, err)
	}
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v err %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(st); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state mode err %v", err)
	}
	if err := os.WriteFile(cfg, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if wrote, err := PrepareDirs(cfg, st, []byte("x = 1\n")); err != nil || wrote {
		t.Fatalf("second PrepareDirs: wrote=%v err=%v", wrote, err)
	}
	if b, _ := os.ReadFile(cfg); string(b) != "mine\n" {
		t.Fatal("existing config overwritten")
	}
	if err := Purge(cfg, st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Error("config not purged")
	}
	if _, err := os.Stat(st); !os.IsNotExist(err) {
		t.Error("state not purged")
	}
}

func TestSeedConfig(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "bin", "omniagent.exe")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "data", "agent.toml")
	st := filepath.Join(dir, "data", "state")
	fallback := []byte("# built-in default\n")
	tests := []struct {
		name    string
		example string // written next to exe first; "" = none
		before  string // existing config; "" = none
		want    string
		wrote   bool
	}{
		{"no example: the fallback", "", "", "# built-in default\n", true},
		{"the example next to the binary", "# example\n", "", "# example\n", true},
		{"an existing config is never replaced", "# example\n", "# admin edit\n", "# admin edit\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(cfg)
			os.Remove(filepath.Join(filepath.Dir(exe), ExampleName))
			if tt.example != "" {
				os.WriteFile(filepath.Join(filepath.Dir(exe), ExampleName), []byte(tt.example), 0o644)
			}
			if tt.before != "" {
				os.MkdirAll(filepath.Dir(cfg), 0o755)
				os.WriteFile(cfg, []byte(tt.before), 0o600)
			}
			wrote, err := SeedConfig(cfg, st, exe, fallback)
			if err != nil || wrote != tt.wrote {
				t.Fatalf("SeedConfig: wrote=%v err=%v, want wrote=%v", wrote, err, tt.wrote)
			}
			if got, _ := os.ReadFile(cfg); string(got) != tt.want {
				t.Errorf("config %q, want %q", got, tt.want)
			}
			if fi, err := os.Stat(st); err != nil || !fi.IsDir() {
				t.Errorf("state folder: %v", err)
			}
		})
	}
}

func TestRotatingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "omniagent.log")
	r := &RotatingFile{Path: path, MaxBytes: 10, Keep: 2}
	defer r.Close()
	for _, s := range []string{"aaaaaa\n", "bbbbbb\n", "cccccc\n", "dddddd\n"} {
		if _, err := r.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"": "dddddd\n", ".1": "cccccc\n", ".2": "bbbbbb\n"} {
		b, err := os.ReadFile(path + name)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", name, b, err, want)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Error("kept more than Keep files")
	}
}

func TestStopTimeoutBounded(t *testing.T) {
	if StopTimeout > 10*time.Second {
		t.Fatalf("StopTimeout %s exceeds the 10 s service managers allow", StopTimeout)
	}
}

func TestServeControls(t *testing.T) {
	tests := []struct {
		name       string
		ctls       []uint32
		wantNotice bool
	}{
		{"stop", []uint32{ctlInterrogate, 0x2, ctlStop}, false},
		{"shutdown", []uint32{ctlShutdown}, true},
		{"preshutdown", []uint32{ctlInterrogate, ctlPreShutdown}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &shutdown.Notice{}
			sawNotice := make(chan bool, 1)
			p := &Program{Notice: n, Run: func(ctx context.Context) error {
				<-ctx.Done()
				sawNotice <- n.Raised()
				return nil
			}}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			reqs := make(chan ctlRequest)
			interrogated, pending := 0, 0
			go func() {
				for _, c := range tt.ctls {
					reqs <- ctlRequest{cmd: c, interrogate: func() { interrogated++ }}
				}
			}()
			code, err := serveControls(p, reqs, func() { pending++ })
			if err != nil || code != 0 {
				t.Fatalf("serveControls = %d, %v", code, err)
			}
			if got := <-sawNotice; got != tt.wantNotice {
				t.Errorf("agent saw notice %v, want %v", got, tt.wantNotice)
			}
			want := 0
			for _, c := range tt.ctls {
				if c == ctlInterrogate {
					want++
				}
			}
			if interrogated != want {
				t.Errorf("answered %d interrogations, want %d", interrogated, want)
			}
			if pending != 1 {
				t.Errorf("StopPending reported %d times", pending)
			}
		})
	}
	t.Run("agent fails", func(t *testing.T) {
		boom := errors.New("boom")
		p := &Program{Run: func(context.Context) error { return boom }}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		code, err := serveControls(p, make(chan ctlRequest), func() {})
		if code == 0 || !errors.Is(err, boom) {
			t.Errorf("serveControls = %d, %v; want non-zero and boom", code, err)
		}
	})
}

func TestDefinitelyNotInstalled(t *testing.T) {
	none := func(string) bool { return false }
	unit := func(p string) bool { return p == "/lib/systemd/system/omniagent.service" }
	tests := []struct {
		goos   string
		exists func(string) bool
		want   bool
	}{
		{"linux", none, true},
		{"linux", unit, false},
		{"darwin", none, true},
		{"windows", none, false}, // the SCM is the only authority there
	}
	for _, tc := range tests {
		if got := definitelyNotInstalled(tc.goos, tc.exists); got != tc.want {
			t.Errorf("definitelyNotInstalled(%s) = %v, want %v", tc.goos, got, tc.want)
		}
	}
}

type fixedDetector bool

func (f fixedDetector) SystemShuttingDown(context.Context) bool { return bool(f) }

// On systemd a stop during a power-off is the same SIGTERM as `systemctl stop`: the detector
// tells them apart, and the agent then gets the shutdown limit to finish its shutdown actions.
// On Windows the handler raises the notice on (pre)shutdown before stopping: the same limit.
func TestProgramStopDuringSystemShutdown(t *testing.T) {
	tests := []struct {
		name             string
		shutting, notice bool
		wantErr          bool
	}{
		{"plain stop: the short limit", false, false, true},
		{"system shutdown: the long limit", true, false, false},
		{"notice raised: the long limit", false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			finished := make(chan struct{})
			n := &shutdown.Notice{}
			var sawNotice bool
			p := &Program{Detector: fixedDetector(tc.shutting), Notice: n, stopTimeout: 20 * time.Millisecond, shutdownTimeout: 10 * time.Second,
				Run: func(ctx context.Context) error {
					<-ctx.Done()
					sawNotice = n.Raised()
					// the shutdown actions: longer than the stop limit
					time.Sleep(200 * time.Millisecond)
					close(finished)
					return nil
				}}
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.notice {
				n.Raise()
			}
			err := p.Stop()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Stop = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr {
				select {
				case <-finished:
				default:
					t.Fatal("Stop returned before the shutdown actions finished")
				}
				if sawNotice != tc.notice {
					t.Errorf("the agent saw the notice %v when its context ended, want %v", sawNotice, tc.notice)
				}
			}
		})
	}
}
