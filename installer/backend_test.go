package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeRunner records every argv and answers from a table keyed by the joined argv; argv it does
// not know succeed with no output.
type fakeRunner struct {
	answers map[string]result
	fail    map[string]error // the command did not run
	calls   []string
}

func (f *fakeRunner) run(_ context.Context, argv ...string) (result, error) {
	k := strings.Join(argv, " ")
	f.calls = append(f.calls, k)
	if err := f.fail[k]; err != nil {
		return result{}, err
	}
	return f.answers[k], nil
}

func testConfig(t *testing.T, goos string) Config {
	t.Helper()
	exe := "/usr/bin/omniagent"
	c, err := ServiceConfig(goos, Options{Executable: exe})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// systemdRoot is a fake root with /run/systemd/system (systemd booted) unless noSystemd.
func systemdRoot(t *testing.T, booted bool) string {
	t.Helper()
	root := t.TempDir()
	dirs := []string{"etc/systemd/system"}
	if booted {
		dirs = append(dirs, "run/systemd/system")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func sameCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestSystemdInstall(t *testing.T) {
	old := syscallUmask(0o077) // a job's umask must not make the unit unreadable
	defer syscallUmask(old)
	root := systemdRoot(t, true)
	f := &fakeRunner{}
	s := &systemd{cfg: testConfig(t, "linux"), root: root, run: f.run}
	if err := s.Install(); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, f.calls, "systemctl daemon-reload", "systemctl enable omniagent.service")
	unit := filepath.Join(root, "etc/systemd/system/omniagent.service")
	b, err := os.ReadFile(unit)
	if err != nil || string(b) != s.cfg.Definition || !strings.Contains(string(b), "ExecStart=/usr/bin/omniagent run\n") {
		t.Fatalf("unit (%v):\n%s", err, b)
	}
	if fi, _ := os.Stat(unit); fi.Mode().Perm() != 0o644 && runtime.GOOS != "windows" {
		t.Errorf("unit mode %v, want 0644", fi.Mode().Perm())
	}
	if err := s.Install(); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second install: %v", err)
	}
	if s.Platform() != "linux-systemd" {
		t.Errorf("platform %q", s.Platform())
	}
}

func TestSystemdInstallFails(t *testing.T) {
	root := systemdRoot(t, true)
	f := &fakeRunner{answers: map[string]result{
		"systemctl enable omniagent.service": {code: 1, stderr: "Failed to enable unit: Access denied\n"},
	}}
	s := &systemd{cfg: testConfig(t, "linux"), root: root, run: f.run}
	err := s.Install()
	if err == nil || !strings.Contains(err.Error(), "systemctl enable omniagent.service: exit status 1: Failed to enable unit: Access denied") {
		t.Fatalf("Install = %v, want systemctl's output in the error", err)
	}
	if fileExists(filepath.Join(root, "etc/systemd/system/omniagent.service")) {
		t.Error("unit left behind after a failed install")
	}
	sameCalls(t, f.calls, "systemctl daemon-reload", "systemctl enable omniagent.service", "systemctl daemon-reload")
}

func TestSystemdNotBooted(t *testing.T) {
	f := &fakeRunner{}
	s := &systemd{cfg: testConfig(t, "linux"), root: systemdRoot(t, false), run: f.run}
	for name, op := range map[string]func() error{"install": s.Install, "uninstall": s.Uninstall, "start": s.Start, "stop": s.Stop, "restart": s.Restart} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "systemd is not running") {
			t.Errorf("%s = %v, want an error naming systemd", name, err)
		}
	}
	if st, err := s.Status(); st != "not installed" || err != nil {
		t.Errorf("Status = %q, %v; want not installed", st, err)
	}
	os.MkdirAll(filepath.Join(s.root, "etc/init.d"), 0o755)
	os.WriteFile(filepath.Join(s.root, "etc/init.d/omniagent"), []byte("#!/bin/sh\n"), 0o755)
	if st, err := s.Status(); st != "unknown" || err == nil {
		t.Errorf("Status with an old SysV script = %q, %v; want unknown and why", st, err)
	}
	if len(f.calls) != 0 {
		t.Errorf("ran %q without systemd", f.calls)
	}
}

func TestSystemdControl(t *testing.T) {
	f := &fakeRunner{}
	s := &systemd{cfg: testConfig(t, "linux"), root: systemdRoot(t, true), run: f.run}
	for _, op := range []func() error{s.Start, s.Stop, s.Restart} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	sameCalls(t, f.calls, "systemctl start omniagent.service", "systemctl stop omniagent.service", "systemctl restart omniagent.service")
	f.fail = map[string]error{"systemctl start omniagent.service": context.DeadlineExceeded}
	if err := s.Start(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start = %v, want the runner's error", err)
	}
}

func TestSystemdUninstall(t *testing.T) {
	tests := []struct {
		name    string
		answers map[string]result
		want    []string
		wantErr string
	}{
		{"running", nil, []string{"systemctl stop omniagent.service", "systemctl disable omniagent.service",
			"systemctl daemon-reload", "systemctl reset-failed omniagent.service"}, ""},
		{"stop fails but the unit is down", map[string]result{
			"systemctl stop omniagent.service":                                  {code: 5, stderr: "Failed to stop omniagent.service: Unit omniagent.service not loaded."},
			"systemctl show --property=LoadState,ActiveState omniagent.service": {stdout: "LoadState=loaded\nActiveState=inactive\n"},
		}, []string{"systemctl stop omniagent.service", "systemctl show --property=LoadState,ActiveState omniagent.service",
			"systemctl disable omniagent.service", "systemctl daemon-reload", "systemctl reset-failed omniagent.service"}, ""},
		{"stop fails and it runs on", map[string]result{
			"systemctl stop omniagent.service":                                  {code: 1, stderr: "Job canceled"},
			"systemctl show --property=LoadState,ActiveState omniagent.service": {stdout: "LoadState=loaded\nActiveState=active\n"},
		}, []string{"systemctl stop omniagent.service", "systemctl show --property=LoadState,ActiveState omniagent.service"}, "Job canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{answers: tt.answers}
			s := &systemd{cfg: testConfig(t, "linux"), root: systemdRoot(t, true), run: f.run}
			unit := filepath.Join(s.root, "etc/systemd/system/omniagent.service")
			os.WriteFile(unit, []byte(s.cfg.Definition), 0o644)
			err := s.Uninstall()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Uninstall = %v, want error %q", err, tt.wantErr)
			}
			sameCalls(t, f.calls, tt.want...)
			if fileExists(unit) == (tt.wantErr == "") {
				t.Errorf("unit exists %v after Uninstall = %v", fileExists(unit), err)
			}
		})
	}
	t.Run("a package's unit is left alone", func(t *testing.T) {
		f := &fakeRunner{}
		s := &systemd{cfg: testConfig(t, "linux"), root: systemdRoot(t, true), run: f.run}
		if err := s.Uninstall(); err == nil || !strings.Contains(err.Error(), "not installed by `omniagent install`") {
			t.Errorf("Uninstall = %v", err)
		}
		if len(f.calls) != 0 {
			t.Errorf("ran %q", f.calls)
		}
	})
}

func TestSystemdStatus(t *testing.T) {
	const show = "systemctl show --property=LoadState,ActiveState omniagent.service"
	tests := []struct {
		name    string
		answer  result
		fail    error
		files   bool // a unit file exists somewhere
		want    string
		wantErr bool
	}{
		{"active", result{stdout: "LoadState=loaded\nActiveState=active\n"}, nil, true, "running", false},
		{"activating", result{stdout: "LoadState=loaded\nActiveState=activating\n"}, nil, true, "running", false},
		{"properties in the other order", result{stdout: "ActiveState=reloading\nLoadState=loaded\n"}, nil, true, "running", false},
		{"inactive", result{stdout: "LoadState=loaded\nActiveState=inactive\n"}, nil, true, "stopped", false},
		{"deactivating", result{stdout: "LoadState=loaded\nActiveState=deactivating\n"}, nil, true, "stopped", false},
		{"failed says so", result{stdout: "LoadState=loaded\nActiveState=failed\n"}, nil, true, "stopped", true},
		{"not-found", result{stdout: "LoadState=not-found\nActiveState=inactive\n"}, nil, false, "not installed", false},
		{"removed under a live process", result{stdout: "LoadState=not-found\nActiveState=active\n"}, nil, false, "running", false},
		{"bad unit", result{stdout: "LoadState=bad-setting\nActiveState=inactive\n"}, nil, true, "unknown", true},
		{"garbage", result{stdout: "hello\n"}, nil, true, "unknown", true},
		{"systemctl fails, no unit anywhere", result{code: 1, stderr: "Failed to connect to bus"}, nil, false, "not installed", false},
		{"systemctl fails, a unit exists", result{code: 1, stderr: "Failed to connect to bus"}, nil, true, "unknown", true},
		{"systemctl does not run", result{}, errors.New("exec: \"systemctl\": not found"), true, "unknown", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{answers: map[string]result{show: tt.answer}, fail: map[string]error{show: tt.fail}}
			s := &systemd{cfg: testConfig(t, "linux"), root: systemdRoot(t, true), run: f.run}
			if tt.files {
				os.MkdirAll(filepath.Join(s.root, "usr/lib/systemd/system"), 0o755)
				os.WriteFile(filepath.Join(s.root, "usr/lib/systemd/system/omniagent.service"), []byte(s.cfg.Definition), 0o644)
			}
			st, err := s.Status()
			if st != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Status = %q, %v; want %q, error %v", st, err, tt.want, tt.wantErr)
			}
			sameCalls(t, f.calls, show)
		})
	}
}

func TestUnderSystemd(t *testing.T) {
	named := func(n string) func() string { return func() string { return n } }
	tests := []struct {
		name     string
		ppid     int
		parent   string
		invocID  string
		terminal bool
		want     bool
	}{
		{"started by PID 1", 1, "", "", false, true},
		{"a user service: systemd --user", 812, "systemd", "", false, true},
		{"a wrapper script in a unit", 900, "sh", "4f1c…", false, true},
		{"a shell on a terminal", 900, "bash", "", true, false},
		{"a terminal emulator run as a user service leaks INVOCATION_ID", 900, "bash", "4f1c…", true, false},
		{"a pipe from a shell", 900, "bash", "", false, false},
		{"PID 1 in a container", 0, "", "", false, false},
	}
	for _, tt := range tests {
		if got := underSystemd(tt.ppid, named(tt.parent), tt.invocID, tt.terminal); got != tt.want {
			t.Errorf("%s: underSystemd = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func launchdRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "Library/LaunchDaemons"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

const (
	plist          = "/Library/LaunchDaemons/omniagent.plist"
	list           = "launchctl list omniagent"
	listedRunning  = "{\n\t\"LimitLoadToSessionType\" = \"System\";\n\t\"Label\" = \"omniagent\";\n\t\"OnDemand\" = false;\n\t\"LastExitStatus\" = 0;\n\t\"PID\" = 4242;\n\t\"Program\" = \"/usr/local/bin/omniagent\";\n};\n"
	listedStopped  = "{\n\t\"Label\" = \"omniagent\";\n\t\"LastExitStatus\" = 256;\n};\n"
	launchdUnknown = "Could not find service \"omniagent\" in domain for port\n"
)

func TestLaunchdInstall(t *testing.T) {
	root := launchdRoot(t)
	f := &fakeRunner{}
	c := testConfig(t, "darwin")
	l := &launchd{cfg: c, root: root, run: f.run}
	if err := l.Install(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, plist))
	if err != nil || string(b) != c.Definition {
		t.Fatalf("plist (%v):\n%s", err, b)
	}
	// launchd starts the daemon at boot and after it exits only with these
	for _, want := range []string{"<key>RunAtLoad</key>\n\t<true/>", "<key>KeepAlive</key>\n\t<true/>", "<string>/usr/bin/omniagent</string>\n\t\t<string>run</string>\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plist lacks %q", want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(root, plist)); fi.Mode().Perm() != 0o644 && runtime.GOOS != "windows" {
		t.Errorf("plist mode %v", fi.Mode().Perm())
	}
	if len(f.calls) != 0 {
		t.Errorf("install ran %q (the CLI starts the service next)", f.calls)
	}
	if err := l.Install(); err == nil {
		t.Error("second install accepted")
	}
	if l.Platform() != "darwin-launchd" {
		t.Errorf("platform %q", l.Platform())
	}
}

func TestLaunchdControl(t *testing.T) {
	loaded := map[string]result{list: {stdout: listedRunning}}
	notLoaded := map[string]result{list: {code: 113, stderr: launchdUnknown}}
	tests := []struct {
		name    string
		op      func(*launchd) error
		answers map[string]result
		want    []string
		wantErr string
	}{
		{"start", (*launchd).Start, nil, []string{"launchctl load -w " + plist}, ""},
		{"start fails with exit status 0", (*launchd).Start, map[string]result{"launchctl load -w " + plist: {stderr: plist + ": service already loaded\n"}},
			[]string{"launchctl load -w " + plist}, "service already loaded"},
		{"start in progress", (*launchd).Start, map[string]result{"launchctl load -w " + plist: {stderr: "Operation now in progress\n"}},
			[]string{"launchctl load -w " + plist}, ""},
		{"stop", (*launchd).Stop, loaded, []string{list, "launchctl unload " + plist}, ""},
		{"stop when not loaded", (*launchd).Stop, notLoaded, []string{list}, ""},
		{"restart", (*launchd).Restart, loaded, []string{list, "launchctl unload " + plist, "launchctl load -w " + plist}, ""},
		{"restart when not loaded", (*launchd).Restart, notLoaded, []string{list, "launchctl load -w " + plist}, ""},
		{"uninstall", (*launchd).Uninstall, loaded, []string{list, "launchctl unload " + plist}, ""},
		{"unload fails", (*launchd).Uninstall, map[string]result{list: {stdout: listedRunning}, "launchctl unload " + plist: {code: 5, stderr: "Unload failed: 5: Input/output error"}},
			[]string{list, "launchctl unload " + plist}, "exit status 5: Unload failed: 5: Input/output error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{answers: tt.answers}
			l := &launchd{cfg: testConfig(t, "darwin"), root: launchdRoot(t), run: f.run}
			file := filepath.Join(l.root, plist)
			os.WriteFile(file, []byte(l.cfg.Definition), 0o644)
			err := tt.op(l)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			sameCalls(t, f.calls, tt.want...)
			if strings.HasPrefix(tt.name, "uninstall") && fileExists(file) {
				t.Error("plist left after uninstall")
			}
		})
	}
	f := &fakeRunner{}
	l := &launchd{cfg: testConfig(t, "darwin"), root: launchdRoot(t), run: f.run}
	if err := l.Uninstall(); err == nil || len(f.calls) != 0 {
		t.Errorf("uninstall without a plist = %v, ran %q", err, f.calls)
	}
}

func TestLaunchdStatus(t *testing.T) {
	tests := []struct {
		name    string
		answer  result
		fail    error
		plist   bool
		want    string
		wantErr bool
	}{
		{"running", result{stdout: listedRunning}, nil, true, "running", false},
		{"loaded, not running", result{stdout: listedStopped}, nil, true, "stopped", false},
		{"unloaded", result{code: 113, stderr: launchdUnknown}, nil, true, "stopped", false},
		{"no plist", result{code: 113, stderr: launchdUnknown}, nil, false, "not installed", false},
		{"launchctl does not run", result{}, errors.New("exec: \"launchctl\": not found"), true, "unknown", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{answers: map[string]result{list: tt.answer}, fail: map[string]error{list: tt.fail}}
			l := &launchd{cfg: testConfig(t, "darwin"), root: launchdRoot(t), run: f.run}
			if tt.plist {
				os.WriteFile(filepath.Join(l.root, plist), []byte(l.cfg.Definition), 0o644)
			}
			st, err := l.Status()
			if st != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Status = %q, %v; want %q, error %v", st, err, tt.want, tt.wantErr)
			}
			sameCalls(t, f.calls, list)
		})
	}
}

func TestSCMStatus(t *testing.T) {
	tests := []struct {
		state uint32
		want  string
	}{
		{stateRunning, "running"}, {stateStartPending, "running"}, {stateContinuePending, "running"},
		{stateStopped, "stopped"}, {stateStopPending, "stopped"}, {statePausePending, "stopped"}, {statePaused, "stopped"},
		{0x42, "unknown"},
	}
	for _, tt := range tests {
		got, err := scmStatus(tt.state)
		if got != tt.want || (err != nil) != (tt.want == "unknown") {
			t.Errorf("scmStatus(%d) = %q, %v; want %q", tt.state, got, err, tt.want)
		}
	}
}

func TestWaitStopped(t *testing.T) {
	states := []uint32{stateStopPending, stateStopPending, stateStopped}
	n := 0
	query := func() (uint32, error) { n++; return states[min(n, len(states))-1], nil }
	if err := waitStopped(context.Background(), query, time.Millisecond); err != nil || n != 3 {
		t.Errorf("waitStopped = %v after %d queries, want nil after 3", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stuck := func() (uint32, error) { return stateStopPending, nil }
	if err := waitStopped(ctx, stuck, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("waitStopped on a stuck service = %v, want the context's error", err)
	}
	boom := errors.New("access denied")
	if err := waitStopped(context.Background(), func() (uint32, error) { return 0, boom }, time.Hour); !errors.Is(err, boom) {
		t.Errorf("waitStopped = %v, want the query's error", err)
	}
}

func TestCommandErrors(t *testing.T) {
	run := func(_ context.Context, argv ...string) (result, error) {
		return result{code: 4, stdout: "only stdout\n"}, nil
	}
	if _, err := command(run, "systemctl", "start", "x"); err == nil || err.Error() != "installer: systemctl start x: exit status 4: only stdout" {
		t.Errorf("command = %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	if r, err := execRunner(context.Background(), "sh", "-c", "echo out; echo err >&2; exit 3"); err != nil || r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("execRunner = %+v, %v", r, err)
	}
}
