package installer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// systemd installs and controls the service with systemctl. It is compiled on every OS so its
// argv is tested everywhere; NewManager picks it on Linux. Only systemd is supported: the
// upstart, OpenRC and SysV init of other service libraries are not.
type systemd struct {
	cfg  Config
	root string // "/" except in tests: the unit is written and /run/systemd looked up under it
	run  runner
}

const platformSystemd = "linux-systemd"

func (s *systemd) Platform() string { return platformSystemd }

func (s *systemd) unit() string { return s.cfg.Name + ".service" }

func (s *systemd) path(p string) string { return filepath.Join(s.root, p) }

// booted tells whether systemd is the running init, as sd_booted(3) does.
func (s *systemd) booted() error {
	if _, err := os.Stat(s.path("/run/systemd/system")); err != nil {
		return errors.New("installer: systemd is not running on this system (no /run/systemd/system): omniagent installs and controls its service only through systemd; run `omniagent run` from your init system instead")
	}
	return nil
}

func (s *systemd) systemctl(args ...string) (result, error) {
	return command(s.run, append([]string{"systemctl"}, args...)...)
}

// Install writes the unit, reloads systemd and enables the unit (started at boot); the CLI
// starts it next.
func (s *systemd) Install() error {
	if err := s.booted(); err != nil {
		return err
	}
	file := s.path(s.cfg.File)
	if err := writeNew(file, s.cfg.Definition); err != nil {
		return err
	}
	if _, err := s.systemctl("daemon-reload"); err != nil {
		os.Remove(file) // nothing half-installed: a second install would find the unit and refuse
		return err
	}
	if _, err := s.systemctl("enable", s.unit()); err != nil {
		os.Remove(file)
		s.systemctl("daemon-reload")
		return err
	}
	return nil
}

// Uninstall stops and disables the unit that Install wrote and removes it. A unit shipped by
// the .deb/.rpm is left alone: the package manager owns it.
func (s *systemd) Uninstall() error {
	if err := s.booted(); err != nil {
		return err
	}
	file := s.path(s.cfg.File)
	if !fileExists(file) {
		return fmt.Errorf("installer: %s does not exist: the service was not installed by `omniagent install` (a package's unit goes with the package)", file)
	}
	if _, err := s.systemctl("stop", s.unit()); err != nil {
		if st, _ := s.Status(); st == "running" {
			return err
		}
	}
	if _, err := s.systemctl("disable", s.unit()); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil {
		return fmt.Errorf("installer: remove the unit: %w", err)
	}
	if _, err := s.systemctl("daemon-reload"); err != nil {
		return err
	}
	// A unit that ended failed stays listed until reset; nothing to reset is not an error.
	s.systemctl("reset-failed", s.unit())
	return nil
}

func (s *systemd) Start() error   { return s.control("start") }
func (s *systemd) Stop() error    { return s.control("stop") }
func (s *systemd) Restart() error { return s.control("restart") }

func (s *systemd) control(verb string) error {
	if err := s.booted(); err != nil {
		return err
	}
	_, err := s.systemctl(verb, s.unit())
	return err
}

// Status asks systemd for the unit's load and active states. Without systemd, or when
// systemctl fails, a system with no omniagent unit file anywhere says "not installed".
func (s *systemd) Status() (string, error) {
	notInstalled := func() bool {
		return definitelyNotInstalled("linux", func(p string) bool { return fileExists(s.path(p)) })
	}
	if err := s.booted(); err != nil {
		if notInstalled() {
			return "not installed", nil
		}
		return "unknown", err
	}
	r, err := s.systemctl("show", "--property=LoadState,ActiveState", s.unit())
	if err != nil {
		if notInstalled() {
			return "not installed", nil
		}
		return "unknown", err
	}
	return systemdStatus(s.unit(), r.stdout)
}

// systemdStatus maps `systemctl show --property=LoadState,ActiveState` output to a status.
func systemdStatus(unit, show string) (string, error) {
	var load, active string
	for _, line := range strings.Split(show, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "LoadState":
			load = v
		case "ActiveState":
			active = v
		}
	}
	switch {
	case active == "active", active == "activating", active == "reloading", active == "refreshing":
		return "running", nil // even when not-found: the unit file was removed under a live process
	case load == "not-found":
		return "not installed", nil
	case load == "error", load == "bad-setting":
		return "unknown", fmt.Errorf("installer: %s does not load (LoadState=%s): see systemctl status %s", unit, load, unit)
	case active == "inactive", active == "deactivating":
		return "stopped", nil
	case active == "failed":
		return "stopped", fmt.Errorf("installer: %s failed: see systemctl status %s", unit, unit)
	}
	return "unknown", fmt.Errorf("installer: unexpected systemctl show output %q", strings.TrimSpace(show))
}

// underSystemd tells whether systemd (or another init) started us rather than a terminal: our
// parent is PID 1 or a systemd manager (user services), or systemd's INVOCATION_ID is set and
// stdin is no terminal (a unit whose ExecStart is a wrapper script; systemd gives services
// /dev/null, while a shell of a terminal emulator that runs as a user service inherits the
// variable but has a terminal). Unlike kardianos/service we do not treat containers as
// interactive: a container's init starting us gets service mode, which on Linux only changes
// how SIGTERM is waited for (the log stays on stderr without a journal stream).
func underSystemd(ppid int, parentComm func() string, invocationID string, stdinTerminal bool) bool {
	if ppid == 1 || (invocationID != "" && !stdinTerminal) {
		return true
	}
	return parentComm() == "systemd"
}
