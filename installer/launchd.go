package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// launchd installs and controls the service with launchctl, as a system daemon
// (/Library/LaunchDaemons). It is compiled on every OS so its argv and the plist it writes are
// tested everywhere; it has not run on macOS in CI (docs/architecture.md).
type launchd struct {
	cfg  Config
	root string // "/" except in tests: the plist is written under it
	run  runner
}

const platformLaunchd = "darwin-launchd"

func (l *launchd) Platform() string { return platformLaunchd }

// plist is the path launchctl is given (never under root: launchd reads the real one).
func (l *launchd) plist() string { return l.cfg.File }

// launchctl runs one launchctl command. load and unload report some failures on stderr with
// exit status 0 ("service already loaded", "Could not find specified service"), so output on
// stderr is an error too, except the notice that the job is still starting.
func (l *launchd) launchctl(args ...string) (result, error) {
	argv := append([]string{"launchctl"}, args...)
	r, err := command(l.run, argv...)
	if err != nil {
		return r, err
	}
	if msg := strings.TrimSpace(r.stderr); msg != "" && !strings.HasSuffix(msg, "Operation now in progress") {
		return r, fmt.Errorf("installer: %s: %s", strings.Join(argv, " "), msg)
	}
	return r, nil
}

// Install writes the plist. It has RunAtLoad and KeepAlive true (packaging/omniagent.plist): launchd
// starts the daemon at boot and again when it exits. The CLI loads it next (Start).
func (l *launchd) Install() error {
	return writeNew(filepath.Join(l.root, l.cfg.File), l.cfg.Definition)
}

// Uninstall unloads the job when loaded and removes the plist.
func (l *launchd) Uninstall() error {
	file := filepath.Join(l.root, l.cfg.File)
	if !fileExists(file) {
		return fmt.Errorf("installer: %s does not exist: the service is not installed", file)
	}
	if err := l.Stop(); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil {
		return fmt.Errorf("installer: remove the plist: %w", err)
	}
	return nil
}

// Start loads the job (-w clears a Disabled override); RunAtLoad starts it.
func (l *launchd) Start() error {
	_, err := l.launchctl("load", "-w", l.plist())
	return err
}

// Stop unloads the job: with KeepAlive, `launchctl stop` would only have it started again. The
// job stays enabled, so it starts at the next boot, as after `systemctl stop`. Stopping a job
// that is not loaded does nothing.
func (l *launchd) Stop() error {
	if !l.loaded() {
		return nil
	}
	_, err := l.launchctl("unload", l.plist())
	return err
}

func (l *launchd) Restart() error {
	if err := l.Stop(); err != nil {
		return err
	}
	return l.Start()
}

func (l *launchd) loaded() bool {
	_, err := l.launchctl("list", l.cfg.Name)
	return err == nil
}

// Status: `launchctl list LABEL` succeeds for a loaded job and shows its PID while it runs; a
// job that is not loaded is stopped when its plist exists.
func (l *launchd) Status() (string, error) {
	r, err := command(l.run, "launchctl", "list", l.cfg.Name)
	if err != nil && r.code == 0 { // launchctl did not run
		return "unknown", err
	}
	return launchdStatus(r, fileExists(filepath.Join(l.root, l.cfg.File))), nil
}

// launchdStatus maps `launchctl list LABEL`'s result to a status.
func launchdStatus(r result, plistExists bool) string {
	switch {
	case r.code == 0 && hasPID(r.stdout):
		return "running"
	case r.code == 0, plistExists:
		return "stopped"
	}
	return "not installed"
}

// hasPID finds the `"PID" = 123;` line of `launchctl list LABEL` (absent when the job is loaded
// but not running).
func hasPID(out string) bool {
	_, after, ok := strings.Cut(out, `"PID" = `)
	return ok && after != "" && after[0] >= '0' && after[0] <= '9'
}
