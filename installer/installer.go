// Package installer runs omniagent as an OS service (systemd, launchd, the Windows SCM) through
// kardianos/service, behind the Manager interface so commands and tests never touch the real
// service manager unless asked to.
package installer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/kardianos/service"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/packaging"
	"github.com/omniagent/omniagent/shutdown"
)

// StopTimeout bounds how long Stop waits for the agent to wind down (service managers kill
// slower services anyway).
const StopTimeout = 10 * time.Second

// ShutdownTimeout bounds the wait when the OS is going down, leaving room for shutdown actions
// (the systemd unit's TimeoutStopSec is 30 s too; Windows allows 3 min after pre-shutdown).
const ShutdownTimeout = 30 * time.Second

// Options describe the service to install.
type Options struct {
	// Executable is the absolute path of the omniagent binary.
	Executable string
	// ConfigPath is passed as --config when it is not the OS default.
	ConfigPath string
}

// ServiceFlag is the `run` flag that puts the agent in service mode; the Windows service is
// registered with it (the MSI's ServiceInstall too).
const ServiceFlag = "--service"

// Arguments are the command-line arguments the service manager starts the agent with (on
// Windows ServiceConfig adds ServiceFlag after "run").
func (o Options) Arguments() []string {
	args := []string{"run"}
	if o.ConfigPath != "" && o.ConfigPath != config.DefaultPath() {
		args = append(args, "--config", o.ConfigPath)
	}
	return args
}

// ServiceConfig builds the kardianos configuration for goos; tests inspect it without installing.
func ServiceConfig(goos string, o Options) (*service.Config, error) {
	if !filepath.IsAbs(o.Executable) && !isWindowsAbs(o.Executable) {
		return nil, fmt.Errorf("installer: executable path %q is not absolute", o.Executable)
	}
	args := o.Arguments()
	if goos == "windows" {
		// Service mode is explicit on Windows: kardianos' detection (svc.IsWindowsService)
		// answers false under Wine's SCM, so the agent never reached the service dispatcher and
		// the SCM gave up with error 1053. systemd and launchd are detected reliably and their
		// shipped unit/plist keep plain "run".
		args = append([]string{args[0], ServiceFlag}, args[1:]...)
	}
	opt := service.KeyValue{}
	switch goos {
	case "linux":
		unit, err := packaging.SystemdUnit(o.Executable, args)
		if err != nil {
			return nil, err
		}
		opt["SystemdScript"] = unit
		opt["Restart"] = "on-failure"
	case "darwin":
		plist, err := packaging.LaunchdPlist(o.Executable, args)
		if err != nil {
			return nil, err
		}
		opt["LaunchdConfig"] = plist
		opt["RunAtLoad"] = true // kardianos defaults to false: the daemon would not start at boot
		opt["KeepAlive"] = true
	case "windows":
		// kardianos sets no recovery action unless OnFailure is given.
		opt["OnFailure"] = "restart"
		opt["OnFailureDelayDuration"] = "10s"
		opt["OnFailureResetPeriod"] = 86400
		opt["StartType"] = "automatic"
	}
	return &service.Config{
		Name:        packaging.ServiceName,
		DisplayName: "omniagent",
		Description: "omniagent endpoint management agent (OCO, GLPI, RDFM, JumpCloud, MIG)",
		Executable:  o.Executable,
		Arguments:   args,
		Option:      opt,
	}, nil
}

func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// Manager is what the CLI needs from the service manager.
type Manager interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
	Restart() error
	// Status is "running", "stopped", "not installed" or "unknown".
	Status() (string, error)
	// Platform names the backend (e.g. "linux-systemd", "windows-service").
	Platform() string
}

// NewManager returns the real service manager for this OS, with no program attached
// (install/control only).
func NewManager(o Options) (Manager, error) {
	cfg, err := ServiceConfig(runtime.GOOS, o)
	if err != nil {
		return nil, err
	}
	s, err := service.New(&Program{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("installer: service manager: %w", err)
	}
	return kardianos{s}, nil
}

type kardianos struct{ s service.Service }

func (k kardianos) Install() error   { return k.s.Install() }
func (k kardianos) Uninstall() error { return k.s.Uninstall() }
func (k kardianos) Start() error     { return k.s.Start() }
func (k kardianos) Stop() error      { return k.s.Stop() }
func (k kardianos) Restart() error   { return k.s.Restart() }
func (k kardianos) Platform() string { return k.s.Platform() }

func (k kardianos) Status() (string, error) {
	st, err := k.s.Status()
	if errors.Is(err, service.ErrNotInstalled) || (err != nil && definitelyNotInstalled(runtime.GOOS, fileExists)) {
		return "not installed", nil
	}
	if err != nil {
		return "unknown", err
	}
	switch st {
	case service.StatusRunning:
		return "running", nil
	case service.StatusStopped:
		return "stopped", nil
	}
	return "unknown", nil
}

// Interactive reports whether omniagent runs from a terminal rather than a service manager.
func Interactive() bool { return service.Interactive() }

// ServiceMode reports whether `run` must report to a service manager: when the command line
// carries ServiceFlag, or, for installs registered before the flag existed, when kardianos
// detects a service manager.
func ServiceMode(flag bool) bool { return flag || !Interactive() }

// Program adapts the agent to a service manager: Start returns at once and runs the agent in a
// goroutine, Stop cancels it and waits up to StopTimeout.
type Program struct {
	// Run is the agent; it must return soon after ctx ends.
	Run func(ctx context.Context) error
	// Notice is raised when the service manager announces a system shutdown.
	Notice *shutdown.Notice
	// Detector tells a system shutdown from a plain stop when the service manager does not
	// say (systemd and launchd send the same SIGTERM for both), so the agent gets
	// ShutdownTimeout, not StopTimeout, to run its shutdown actions. nil: shutdown.NewDetector.
	Detector shutdown.Detector
	Logger   *slog.Logger

	// stopTimeout and shutdownTimeout override StopTimeout and ShutdownTimeout in tests.
	stopTimeout, shutdownTimeout time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start implements service.Interface.
func (p *Program) Start(service.Service) error { return p.start() }

func (p *Program) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Run == nil {
		return errors.New("installer: program has nothing to run")
	}
	if p.done != nil {
		return errors.New("installer: already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		err := p.Run(ctx)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		if err != nil && p.Logger != nil {
			p.Logger.Error("agent stopped with an error", "err", err)
		}
	}()
	return nil
}

// Stop implements service.Interface.
func (p *Program) Stop(service.Service) error { return p.stop() }

// Shutdown implements service.Shutdowner: the OS is going down.
func (p *Program) Shutdown(service.Service) error {
	if p.Notice != nil {
		p.Notice.Raise()
	}
	return p.stopWithin(p.shutdownLimit())
}

// stop: a plain stop waits StopTimeout; a stop that is part of a system shutdown waits
// ShutdownTimeout, or the process would exit under the agent's shutdown actions (JumpCloud
// on_shutdown) once StopTimeout passed.
func (p *Program) stop() error {
	if p.Notice.Raised() || p.systemShuttingDown() {
		return p.stopWithin(p.shutdownLimit())
	}
	limit := StopTimeout
	if p.stopTimeout > 0 {
		limit = p.stopTimeout
	}
	return p.stopWithin(limit)
}

func (p *Program) shutdownLimit() time.Duration {
	if p.shutdownTimeout > 0 {
		return p.shutdownTimeout
	}
	return ShutdownTimeout
}

func (p *Program) systemShuttingDown() bool {
	d := p.Detector
	if d == nil {
		d = shutdown.NewDetector(p.Notice, p.Logger)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.SystemShuttingDown(ctx)
}

func (p *Program) stopWithin(limit time.Duration) error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-time.After(limit):
		return fmt.Errorf("installer: the agent did not stop within %s", limit)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil && !errors.Is(p.err, context.Canceled) {
		return p.err
	}
	return nil
}

// Done is closed when the agent goroutine has ended (nil before Start).
func (p *Program) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// ensure Program satisfies both kardianos interfaces.
var (
	_ service.Interface  = (*Program)(nil)
	_ service.Shutdowner = (*Program)(nil)
)
