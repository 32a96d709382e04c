//go:build windows

package installer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

func newManager(c Config) Manager { return &scm{cfg: c} }

// Interactive reports whether omniagent runs from a console rather than the SCM. Wine's SCM
// makes svc.IsWindowsService answer false: the service is registered with `run --service`
// (ServiceMode), so this is only the fallback for services registered without the flag.
func Interactive() bool {
	isService, err := svc.IsWindowsService()
	return err != nil || !isService
}

// scmStopWait bounds Stop's wait for STOPPED: the agent gives up after StopTimeout, the margin
// covers the process exit.
const scmStopWait = StopTimeout + 5*time.Second

// scm installs and controls the service through the Windows service control manager.
type scm struct{ cfg Config }

func (s *scm) Platform() string { return "windows-service" }

// Install registers the service (automatic start, the recovery action) and the Event Log
// source the service logs through.
func (s *scm) Install() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("installer: connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	if old, err := m.OpenService(s.cfg.Name); err == nil {
		old.Close()
		return fmt.Errorf("installer: service %s already exists (uninstall it first)", s.cfg.Name)
	}
	start := uint32(mgr.StartManual)
	if s.cfg.AutoStart {
		start = mgr.StartAutomatic
	}
	sv, err := m.CreateService(s.cfg.Name, s.cfg.Executable, mgr.Config{
		ServiceType:  windows.SERVICE_WIN32_OWN_PROCESS,
		StartType:    start,
		ErrorControl: mgr.ErrorNormal,
		DisplayName:  s.cfg.DisplayName,
		Description:  s.cfg.Description,
	}, s.cfg.Arguments...)
	if err != nil {
		return fmt.Errorf("installer: create service %s: %w", s.cfg.Name, err)
	}
	defer sv.Close()
	undo := func(err error) error {
		sv.Delete()
		return err
	}
	if s.cfg.RestartDelay > 0 {
		act := []mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: s.cfg.RestartDelay}}
		if err := sv.SetRecoveryActions(act, uint32(s.cfg.FailureReset/time.Second)); err != nil {
			return undo(fmt.Errorf("installer: set the recovery action: %w", err))
		}
		// The agent's fatal errors (and the restart into a self-updated binary) end with
		// SERVICE_STOPPED and a non-zero exit code, not a crash: without this flag the SCM
		// applies recovery actions to crashes only.
		// Wine's SCM does not know the setting (ERROR_INVALID_LEVEL): crashes still restart.
		err := sv.SetRecoveryActionsOnNonCrashFailures(true)
		if err != nil && !errors.Is(err, windows.ERROR_INVALID_LEVEL) {
			return undo(fmt.Errorf("installer: set the recovery action for non-crash failures: %w", err))
		}
	}
	if !eventSourceExists(s.cfg.Name) { // left by an earlier install: keep it
		err := eventlog.InstallAsEventCreate(s.cfg.Name, eventlog.Error|eventlog.Warning|eventlog.Info)
		if err != nil {
			return undo(fmt.Errorf("installer: register the event log source: %w", err))
		}
	}
	return nil
}

// eventSourceExists looks for the key eventlog.InstallAsEventCreate creates (it fails when the
// key exists, with an error that only its text tells apart).
func eventSourceExists(name string) bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\EventLog\Application\`+name, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

// Uninstall stops the service, deletes it and its Event Log source.
func (s *scm) Uninstall() error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("installer: connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	sv, err := m.OpenService(s.cfg.Name)
	if err != nil {
		return s.openError(err)
	}
	defer sv.Close()
	if err := stopService(sv); err != nil {
		return err
	}
	if err := sv.Delete(); err != nil {
		return fmt.Errorf("installer: delete service %s: %w", s.cfg.Name, err)
	}
	// An MSI install registers no source: nothing to remove is not an error.
	if err := eventlog.Remove(s.cfg.Name); err != nil && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return fmt.Errorf("installer: remove the event log source: %w", err)
	}
	return nil
}

// Start starts the service; one already running is left alone.
func (s *scm) Start() error {
	sv, closeSv, err := s.open(windows.SERVICE_START)
	if err != nil {
		return err
	}
	defer closeSv()
	if err := sv.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return fmt.Errorf("installer: start service %s: %w", s.cfg.Name, err)
	}
	return nil
}

// Stop asks the service to stop and waits for STOPPED; a stopped service is left alone.
func (s *scm) Stop() error {
	sv, closeSv, err := s.open(windows.SERVICE_STOP | windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return err
	}
	defer closeSv()
	return stopService(sv)
}

func (s *scm) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start()
}

func (s *scm) Status() (string, error) {
	sv, closeSv, err := s.open(windows.SERVICE_QUERY_STATUS)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return "not installed", nil
	}
	if err != nil {
		return "unknown", err
	}
	defer closeSv()
	st, err := sv.Query()
	if err != nil {
		return "unknown", fmt.Errorf("installer: query service %s: %w", s.cfg.Name, err)
	}
	return scmStatus(uint32(st.State))
}

// open opens the service with only the access the action needs, so `omniagent status` works
// for any user and start/stop for users the service's ACL allows.
func (s *scm) open(access uint32) (*mgr.Service, func(), error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return nil, nil, fmt.Errorf("installer: connect to the service manager: %w", err)
	}
	name, err := windows.UTF16PtrFromString(s.cfg.Name)
	if err != nil {
		windows.CloseServiceHandle(h)
		return nil, nil, fmt.Errorf("installer: service name: %w", err)
	}
	sh, err := windows.OpenService(h, name, access)
	if err != nil {
		windows.CloseServiceHandle(h)
		return nil, nil, s.openError(err)
	}
	sv := &mgr.Service{Name: s.cfg.Name, Handle: sh}
	return sv, func() { sv.Close(); windows.CloseServiceHandle(h) }, nil
}

func (s *scm) openError(err error) error {
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return fmt.Errorf("installer: service %s is not installed: %w", s.cfg.Name, err)
	}
	return fmt.Errorf("installer: open service %s: %w", s.cfg.Name, err)
}

// stopService sends Stop and waits up to scmStopWait for STOPPED.
func stopService(sv *mgr.Service) error {
	if _, err := sv.Control(svc.Stop); err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
			return nil
		}
		return fmt.Errorf("installer: stop service %s: %w", sv.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scmStopWait)
	defer cancel()
	return waitStopped(ctx, func() (uint32, error) {
		st, err := sv.Query()
		return uint32(st.State), err
	}, 100*time.Millisecond)
}
