// Package installer runs omniagent as an OS service (systemd, launchd, the Windows SCM), behind
// the Manager interface so commands and tests never touch the real service manager unless asked
// to. Each backend is small and ours: systemd.go and launchd.go drive systemctl and launchctl
// (compiled on every OS so their argv is tested everywhere), scm_windows.go the Windows SCM API.
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

// Config is the service definition for one OS, built by ServiceConfig; tests inspect it
// without installing.
type Config struct {
	// Name is the systemd unit name (without .service), the launchd label, the Windows service name.
	Name        string
	DisplayName string
	Description string
	Executable  string
	// Arguments follow Executable on the service's command line.
	Arguments []string
	// File is where Definition is written (the systemd unit, the launchd plist); "" on Windows,
	// where the SCM keeps the definition.
	File       string
	Definition string
	// Windows only (systemd and launchd take theirs from Definition): automatic start, and the
	// SCM's recovery action, a restart RestartDelay after a failure, the failure count reset
	// after FailureReset without one.
	AutoStart    bool
	RestartDelay time.Duration
	FailureReset time.Duration
}

// ServiceConfig builds the service definition for goos.
func ServiceConfig(goos string, o Options) (Config, error) {
	if !filepath.IsAbs(o.Executable) && !isWindowsAbs(o.Executable) {
		return Config{}, fmt.Errorf("installer: executable path %q is not absolute", o.Executable)
	}
	c := Config{
		Name:        packaging.ServiceName,
		DisplayName: "omniagent",
		Description: "omniagent endpoint management agent (OCO, GLPI, RDFM, JumpCloud, MIG)",
		Executable:  o.Executable,
		Arguments:   o.Arguments(),
	}
	var err error
	switch goos {
	case "linux":
		c.File = "/etc/systemd/system/" + c.Name + ".service"
		c.Definition, err = packaging.SystemdUnit(c.Executable, c.Arguments)
	case "darwin":
		c.File = "/Library/LaunchDaemons/" + c.Name + ".plist"
		c.Definition, err = packaging.LaunchdPlist(c.Executable, c.Arguments)
	case "windows":
		// Service mode is explicit on Windows: the detection (svc.IsWindowsService) answers
		// false under Wine's SCM, so the agent never reached the service dispatcher and the
		// SCM gave up with error 1053. systemd and launchd are detected reliably and their
		// shipped unit/plist keep plain "run".
		c.Arguments = append([]string{c.Arguments[0], ServiceFlag}, c.Arguments[1:]...)
		c.AutoStart = true
		c.RestartDelay = 10 * time.Second
		c.FailureReset = 24 * time.Hour
	default:
		return Config{}, fmt.Errorf("installer: no service manager support on %s", goos)
	}
	if err != nil {
		return Config{}, err
	}
	return c, nil
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
	// Platform names the backend ("linux-systemd", "darwin-launchd", "windows-service").
	Platform() string
}

// NewManager returns the service manager of this OS (systemd.go, launchd.go,
// scm_windows.go), for install and control; RunService runs the agent under it.
func NewManager(o Options) (Manager, error) {
	c, err := ServiceConfig(runtime.GOOS, o)
	if err != nil {
		return nil, err
	}
	return newManager(c), nil
}

// ServiceMode reports whether `run` must report to a service manager: when the command line
// carries ServiceFlag, or, for installs registered before the flag existed, when Interactive
// says a service manager started us.
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

// Start runs the agent in a goroutine and returns at once.
func (p *Program) Start() error {
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

// Stop cancels the agent and waits for it: a plain stop waits StopTimeout; a stop that is part
// of a system shutdown (the notice raised, or the detector says so) waits ShutdownTimeout, or
// the process would exit under the agent's shutdown actions (JumpCloud on_shutdown) once
// StopTimeout passed.
func (p *Program) Stop() error {
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
