package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/installer"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/shutdown"
)

// uninstallHookLimit bounds all adapters' OnUninstall hooks together.
const uninstallHookLimit = 30 * time.Second

func serviceOptions(configPath string) (installer.Options, error) {
	exe, err := os.Executable()
	if err != nil {
		return installer.Options{}, fmt.Errorf("locate the omniagent binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return installer.Options{}, fmt.Errorf("locate the omniagent binary: %w", err)
	}
	if configPath != "" {
		if configPath, err = filepath.Abs(configPath); err != nil {
			return installer.Options{}, fmt.Errorf("config path: %w", err)
		}
	}
	return installer.Options{Executable: exe, ConfigPath: configPath}, nil
}

// serviceStatus is the one-word service state for `omniagent status`.
func serviceStatus() string {
	o, err := serviceOptions("")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	m, err := installer.NewManager(o)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	st, err := m.Status()
	if err != nil {
		return st + " (" + err.Error() + ")"
	}
	return st
}

// runAsService runs the agent under the service manager that started us. notice is raised by
// the Windows handler on pre-shutdown/shutdown, before the agent's context ends.
func runAsService(e *env, run func(context.Context) error, configPath string, notice *shutdown.Notice, log *slog.Logger) int {
	o, err := serviceOptions(configPath)
	if err != nil {
		return fail(e.stderr, err)
	}
	if configPath == "" && runtime.GOOS == "windows" {
		// The MSI ships only the example: write the default config from it at first start
		// (never over an existing one). This run already uses the built-in default, which has
		// no server either.
		if wrote, err := installer.SeedConfig(config.DefaultPath(), config.DefaultStateDir(), o.Executable, config.Default()); err != nil {
			log.Warn("could not write the default config", "path", config.DefaultPath(), "err", err)
		} else if wrote {
			log.Info("wrote the default config from the example: add your servers there", "path", config.DefaultPath())
		}
	}
	prg := &installer.Program{Run: run, Notice: notice, Logger: log}
	if err := installer.RunService(prg, o); err != nil {
		return fail(e.stderr, err)
	}
	log.Info("omniagent stopped")
	return 0
}

// serviceLogEnv sends the daemon's log where the OS expects it when a service manager started
// us; interactive and --oneshot runs keep stderr.
func serviceLogEnv(e *env, serviceMode bool) (*env, func()) {
	if !serviceMode {
		return e, func() {}
	}
	w, err := installer.ServiceLogWriter()
	if err != nil {
		fmt.Fprintf(e.stderr, "omniagent: %v; logging to stderr\n", err)
		return e, func() {}
	}
	se := *e
	se.stderr = w
	return &se, func() { w.Close() }
}

func cmdInstall(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("install", "install [--config FILE]", e)
	cfgPath := fs.String("config", "", "config file the service reads (default: "+config.DefaultPath()+"; created from the built-in default when missing)")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return extraArg(e, "install", fs.Arg(0))
	}
	o, err := serviceOptions(*cfgPath)
	if err != nil {
		return fail(e.stderr, err)
	}
	path := o.ConfigPath
	if path == "" {
		path = config.DefaultPath()
	}
	wrote, err := installer.PrepareDirs(path, config.DefaultStateDir(), config.Default())
	if err != nil {
		return fail(e.stderr, err)
	}
	if wrote {
		fmt.Fprintf(e.stdout, "wrote a default config to %s: add your servers there\n", path)
	}
	if _, err := config.Load(path, e.reg); err != nil {
		return fail(e.stderr, fmt.Errorf("the config does not load, not installing: %w", err))
	}
	m, err := installer.NewManager(o)
	if err != nil {
		return fail(e.stderr, err)
	}
	if err := m.Install(); err != nil {
		return fail(e.stderr, fmt.Errorf("install the service (%s): %w", m.Platform(), err))
	}
	if err := m.Start(); err != nil {
		return fail(e.stderr, fmt.Errorf("start the service: %w", err))
	}
	fmt.Fprintf(e.stdout, "installed and started the omniagent service (%s), config %s\n", m.Platform(), path)
	return 0
}

func cmdUninstall(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("uninstall", "uninstall [--purge] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	purge := fs.Bool("purge", false, "also delete the config file and the state folder")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return extraArg(e, "uninstall", fs.Arg(0))
	}
	o, err := serviceOptions(cf.config)
	if err != nil {
		return fail(e.stderr, err)
	}
	m, err := installer.NewManager(o)
	if err != nil {
		return fail(e.stderr, err)
	}
	if st, _ := m.Status(); st == "running" {
		if err := m.Stop(); err != nil {
			return fail(e.stderr, fmt.Errorf("stop the service: %w", err))
		}
	}
	stateDir := config.DefaultStateDir()
	if cfg, log, err := cf.load(e); err != nil {
		fmt.Fprintf(e.stderr, "omniagent: uninstall hooks skipped: %v\n", err)
	} else {
		if cfg.Agent.StateDir != "" {
			stateDir = cfg.Agent.StateDir
		}
		runUninstallHooks(ctx, e, cfg, log)
	}
	if err := m.Uninstall(); err != nil {
		return fail(e.stderr, fmt.Errorf("remove the service: %w", err))
	}
	if *purge {
		path := cf.config
		if path == "" {
			path = config.DefaultPath()
		}
		if err := installer.Purge(path, stateDir); err != nil {
			return fail(e.stderr, err)
		}
	}
	fmt.Fprintln(e.stdout, "removed the omniagent service")
	return 0
}

// runUninstallHooks lets adapters deregister from their servers before the agent goes away.
func runUninstallHooks(ctx context.Context, e *env, cfg *config.Config, log *slog.Logger) {
	a, err := agent.Build(ctx, cfg, log, agent.Options{Registry: e.reg})
	if err != nil {
		fmt.Fprintf(e.stderr, "omniagent: uninstall hooks skipped: %v\n", err)
		return
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(ctx, uninstallHookLimit)
	defer cancel()
	for _, s := range a.Servers {
		if u, ok := s.Adapter.(protocols.Uninstaller); ok {
			if err := u.OnUninstall(ctx); err != nil {
				fmt.Fprintf(e.stderr, "omniagent: uninstall hook of %s: %v\n", s.Name, err)
			}
		}
	}
}

func cmdServiceControl(verb string) func(context.Context, *env, []string) int {
	return func(_ context.Context, e *env, args []string) int {
		fs := newFlagSet(verb, verb, e)
		if code, done := parseFlags(fs, args, e); done {
			return code
		}
		if fs.NArg() > 0 {
			return extraArg(e, verb, fs.Arg(0))
		}
		o, err := serviceOptions("")
		if err != nil {
			return fail(e.stderr, err)
		}
		m, err := installer.NewManager(o)
		if err != nil {
			return fail(e.stderr, err)
		}
		op := map[string]func() error{"start": m.Start, "stop": m.Stop, "restart": m.Restart}[verb]
		if op == nil {
			return fail(e.stderr, errors.New("unknown service verb "+verb))
		}
		if err := op(); err != nil {
			return fail(e.stderr, fmt.Errorf("%s the service: %w", verb, err))
		}
		fmt.Fprintf(e.stdout, "omniagent service: %s done\n", verb)
		return 0
	}
}

func extraArg(e *env, cmd, arg string) int {
	fmt.Fprintf(e.stderr, "omniagent %s: unexpected argument %q\n", cmd, arg)
	return 2
}
