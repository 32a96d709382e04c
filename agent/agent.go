// Package agent wires the configuration to the collectors, the job runners, the adapters and
// the scheduler. The CLI and the service wrapper both run the agent through it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/collectors"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/control"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/scheduler"
	"github.com/omniagent/omniagent/shutdown"
	"github.com/omniagent/omniagent/state"
	"github.com/omniagent/omniagent/version"
)

// Agent is a configured, ready-to-run agent.
type Agent struct {
	Config    *config.Config
	Logger    *slog.Logger
	Identity  identity.Identity
	Inventory inventory.Provider
	Store     *state.Store // nil when no server is configured
	Servers   []scheduler.Server
	Sched     *scheduler.Scheduler
	opts      Options
	// exitReq receives when a server asks the agent to exit (jobs.ExitAgent).
	exitReq chan struct{}
	// lock holds the state folder for this process (nil when no server is configured).
	lock *state.Lock
	// reaper collects what jobs leave behind (Linux child subreaper); stopReaper ends it.
	reaper     *jobs.Reaper
	stopReaper context.CancelFunc
}

// ErrExitRequested is returned by Run when a server asked the agent to exit (OCO's "restart
// agent" after an update, say). The non-zero exit makes the service manager start it again.
var ErrExitRequested = errors.New("a server asked the agent to exit; the service manager restarts it")

// Options for Build.
type Options struct {
	Registry *protocols.Registry
	Run      protocols.Options
	// OnlyServer limits the agent to one server (by name) when set.
	OnlyServer string
	Clock      scheduler.Clock
	// Shutdown tells an OS shutdown from a service stop when Run ends; nil: never a shutdown.
	Shutdown shutdown.Detector
	// ShutdownHookLimit bounds all shutdown hooks together; default 60 s.
	ShutdownHookLimit time.Duration
	// AfterCycles is called whenever the last running cycle ends (the scheduler's idle point),
	// the moment to look at what the cycles changed (a new binary installed by a job, say).
	AfterCycles func()
	// Progress sees every download (bars on a terminal, else the log); nil: none.
	Progress jobs.ProgressWatcher
	// OnCycle is told when each server's cycle starts and ends; nil: nobody.
	OnCycle func(server string, o *scheduler.Outcome)
}

// Build resolves the identity, opens the state directory (only when servers are configured) and
// builds every enabled server's adapter.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger, o Options) (*Agent, error) {
	a := &Agent{Config: cfg, Logger: log, opts: o, exitReq: make(chan struct{}, 1)}
	var servers []config.Server
	for _, s := range cfg.Servers {
		if s.Disabled || (o.OnlyServer != "" && s.Name != o.OnlyServer) {
			continue
		}
		servers = append(servers, s)
	}
	if o.OnlyServer != "" && len(servers) == 0 {
		return nil, fmt.Errorf("no enabled server named %q in %s", o.OnlyServer, cfg.Source)
	}
	var idStore identity.Store
	built := false
	if len(servers) > 0 {
		dir := cfg.Agent.StateDir
		if dir == "" {
			dir = config.DefaultStateDir()
		}
		st, err := state.Open(dir)
		if err != nil {
			return nil, err
		}
		// One agent per state folder, for the daemon's whole life (and a --oneshot's run).
		lk, err := st.Lock()
		if err != nil {
			return nil, err
		}
		a.lock = lk
		// Nothing a job starts escapes to init while the agent lives (Linux).
		rctx, rcancel := context.WithCancel(context.Background())
		a.stopReaper = rcancel
		if a.reaper, err = jobs.StartReaper(rctx, log); err != nil {
			log.Warn("processes that jobs leave behind are not collected", "err", err)
		}
		defer func() {
			if !built {
				rcancel()
				lk.Unlock()
			}
		}()
		a.Store = st
		idStore = st.Agent()
	}
	// A daemon with no server reports nothing about this machine: resolving who it is would
	// cost a DNS query (the FQDN) and the resolver's code at every start. A oneshot run with
	// no server prints the inventory, which names the machine.
	id := identity.Identity{AgentVersion: version.Version}
	if len(servers) > 0 || o.Run.Oneshot {
		var err error
		id, err = identity.Resolve(ctx, identity.Options{Hostname: cfg.Agent.Hostname, MachineUID: cfg.Agent.MachineUID}, idStore)
		if err != nil {
			return nil, err
		}
	}
	a.Identity = id
	a.Inventory = collectors.New(collectors.Options{
		Identity:        id,
		Disable:         cfg.Inventory.Disabled(),
		CategoryTimeout: cfg.Inventory.CategoryTimeout.D(),
		TTL:             cfg.Inventory.TTL.D(),
		Logger:          log.With("component", "inventory"),
	})
	for _, s := range servers {
		srv, err := a.buildServer(s, o)
		if err != nil {
			return nil, err
		}
		a.Servers = append(a.Servers, srv)
	}
	a.Sched = scheduler.New(scheduler.Options{
		Clock:      o.Clock,
		Jitter:     cfg.Agent.Jitter,
		Splay:      cfg.Agent.Splay.D(),
		MaxBackoff: cfg.Agent.MaxBackoff.D(),
		Store:      a.Store,
		Logger:     log,
		// Between bursts the agent idles for minutes: give the heap the cycle used (inventory,
		// request bodies) back to the OS now rather than after the scavenger's slow decay.
		Idle: func() {
			if o.AfterCycles != nil {
				o.AfterCycles()
			}
			debug.FreeOSMemory()
		},
		OnCycle: o.OnCycle,
	})
	built = true
	return a, nil
}

func (a *Agent) buildServer(s config.Server, o Options) (scheduler.Server, error) {
	cfg := a.Config
	proto, ok := o.Registry.Lookup(s.Protocol)
	if !ok {
		return scheduler.Server{}, fmt.Errorf("server %q: unknown protocol %q", s.Name, s.Protocol)
	}
	if err := state.ValidName(s.Name); err != nil {
		return scheduler.Server{}, fmt.Errorf("server %q: %w", s.Name, err)
	}
	log := a.Logger.With("server", s.Name, "protocol", s.Protocol)
	h := a.Store.Server(s.Name)
	spool, err := h.SpoolDir()
	if err != nil {
		return scheduler.Server{}, err
	}
	exec, shell, power := cfg.Policy(s)
	proxy, err := httpclient.ProxyInEffect(httpclient.Options{Server: s.Name, Proxy: s.Proxy, NoProxy: s.NoProxy}, s.URL)
	if err != nil {
		return scheduler.Server{}, err
	}
	log.Info("server configured", "url", s.URL, "proxy", proxy, "allow_exec", exec, "allow_shell", shell, "allow_power", power)
	runner := jobs.New(jobs.Options{
		Server:      s.Name,
		SpoolDir:    spool,
		Policy:      jobs.Policy{AllowExec: exec, AllowShell: shell, AllowPower: power},
		Logger:      log.With("component", "jobs"),
		Shell:       cfg.Jobs.Shell,
		MaxOutput:   int64(cfg.Jobs.MaxOutput),
		MaxDownload: int64(cfg.Jobs.MaxDownload),
		Timeout:     cfg.Jobs.Timeout.D(),
		Watch:       o.Progress,
		OnExit: func() {
			select {
			case a.exitReq <- struct{}{}:
			default:
			}
		},
		Reaper: a.reaper,
	})
	// A previous agent process that died during a job left its processes running: end them
	// before the adapter reports that job as interrupted.
	runner.KillOrphans()
	// The insecure_skip_verify warning is logged once per server at start, not per client.
	var warnOnce sync.Once
	newClient := func(forceHTTP1 bool) (*http.Client, error) {
		ho := httpclient.Options{
			Server: s.Name, CAFile: s.CAFile, ClientCert: s.ClientCert, ClientKey: s.ClientKey,
			InsecureSkipVerify: s.InsecureSkipVerify, Proxy: s.Proxy, NoProxy: s.NoProxy, Timeout: s.Timeout.D(),
			RequestTimeout: s.RequestTimeout.D(),
			MaxResponse:    int64(s.MaxResponse), ForceHTTP1: forceHTTP1,
			ExchangeLog: log, // at debug: one line per exchange, never a secret
		}
		warnOnce.Do(func() { ho.Logger = log })
		return httpclient.New(ho)
	}
	interval, heartbeat := proto.Interval(s.Interval.D(), s.Options)
	if interval == 0 {
		interval = time.Hour
	}
	s.Interval = config.Duration(interval)
	ad, err := proto.New(protocols.Deps{
		Server:     s,
		Config:     cfg,
		Logger:     log,
		Identity:   a.Identity,
		Inventory:  a.Inventory,
		Jobs:       runner,
		State:      h,
		HTTP:       newClient,
		Options:    o.Run,
		Now:        time.Now,
		SelfUpdate: a.selfUpdater(),
		// GLPI's "Request inventory": a cycle of this server now (a.Sched exists by the time
		// the daemon runs).
		RunNow: func(r protocols.Request) error {
			_, err := a.Sched.RunNow(s.Name, r)
			return err
		},
	})
	if err != nil {
		return scheduler.Server{}, fmt.Errorf("server %q (%s): %w", s.Name, s.Protocol, err)
	}
	srv := scheduler.Server{Name: s.Name, Protocol: s.Protocol, Interval: interval, Adapter: ad}
	if heartbeat {
		srv.MaxBackoff = protocols.HeartbeatBackoffIntervals * interval
		srv.NoSplay = true
	}
	return srv, nil
}

// RequestExit stops Run as a server's exit request does (Run then returns ErrExitRequested).
func (a *Agent) RequestExit() {
	select {
	case a.exitReq <- struct{}{}:
	default:
	}
}

// Run runs every server until ctx ends, then closes the adapters.
func (a *Agent) Run(ctx context.Context) error {
	if len(a.Servers) == 0 {
		a.Logger.Warn("no server is configured: nothing to do but wait; see agent.toml.example", "config", a.Config.Source)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctrlDone, err := a.startControl(ctx)
	if errors.Is(err, control.ErrDaemonRunning) {
		return err
	}
	if err != nil {
		a.Logger.Warn("no control channel: `omniagent trigger` cannot reach this daemon", "err", err)
		done := make(chan struct{})
		close(done)
		ctrlDone = done
	}
	defer func() { <-ctrlDone }()
	wdErr := make(chan error, 1)
	// The watchdog guards the servers' cycles (inventories, downloads, sessions). With no
	// server nothing runs that could grow, and its goroutine would only cost memory.
	if limit := a.Config.Agent.MemoryLimit; limit > 0 && len(a.Servers) > 0 {
		wd := newWatchdog(uint64(limit), a.Logger)
		t := wd.arm()
		go func() {
			err := wd.run(ctx, t)
			wdErr <- err
			if err != nil {
				cancel()
			}
		}()
	} else {
		wdErr <- nil
	}
	var exitRequested atomic.Bool
	// Only a server asks to exit: its jobs, or the self-update check at the scheduler's idle
	// point, which follows cycles. With no server there is nobody to wait for.
	if len(a.Servers) > 0 {
		go func() {
			select {
			case <-a.exitReq:
				a.Logger.Warn("a server asked the agent to exit: stopping")
				exitRequested.Store(true)
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	err = a.Sched.Run(ctx, a.Servers)
	cancel()
	if exitRequested.Load() {
		err = errors.Join(ErrExitRequested, err)
	}
	if werr := <-wdErr; werr != nil {
		err = errors.Join(werr, err)
	}
	a.runShutdownHooks()
	a.close()
	return err
}

// runShutdownHooks gives adapters their say when the OS (not just the service) is going down.
func (a *Agent) runShutdownHooks() {
	if a.opts.Shutdown == nil {
		return
	}
	limit := a.opts.ShutdownHookLimit
	if limit <= 0 {
		limit = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if !a.opts.Shutdown.SystemShuttingDown(ctx) {
		return
	}
	a.Logger.Info("the system is shutting down: running shutdown actions")
	var wg sync.WaitGroup
	for _, s := range a.Servers {
		h, ok := s.Adapter.(protocols.ShutdownHook)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.OnSystemShutdown(ctx); err != nil {
				a.Logger.Warn("shutdown action failed", "server", s.Name, "err", err)
			}
		}()
	}
	wg.Wait()
}

// Oneshot runs one cycle of every server.
func (a *Agent) Oneshot(ctx context.Context) []scheduler.Outcome {
	out := a.Sched.RunOnce(ctx, a.Servers)
	a.close()
	return out
}

// Close releases the adapters and the state folder of an agent that is not Run (commands
// that build the agent for one action: deregister, uninstall hooks).
func (a *Agent) Close() { a.close() }

func (a *Agent) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range a.Servers {
		if c, ok := s.Adapter.(protocols.Closer); ok {
			if err := c.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", s.Name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.Logger.Warn("closing adapters", "err", err)
	}
	if a.stopReaper != nil {
		a.stopReaper()
	}
	if err := a.lock.Unlock(); err != nil {
		a.Logger.Warn("releasing the state folder lock", "err", err)
	}
}
