package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/installer"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/selfupdate"
	"github.com/omniagent/omniagent/state"
	"github.com/omniagent/omniagent/version"
)

// healthyAfter confirms a new binary that stayed up this long even when no cycle ran yet.
const healthyAfter = 2 * time.Minute

func cmdSelfUpdate(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("self-update", "self-update FILE [--signature FILE.minisig] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	sigPath := fs.String("signature", "", "minisign signature of FILE (default: FILE.minisig)")
	noRestart := fs.Bool("no-restart", false, "install only; the running service picks the new binary up at its next restart")
	// Flags may follow FILE, as in the job procedures servers send.
	var file string
	rest := args
	for {
		if code, done := parseFlags(fs, rest, e); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			return extraArg(e, "self-update", fs.Arg(0))
		}
		file, rest = fs.Arg(0), fs.Args()[1:]
	}
	if file == "" {
		fs.Usage()
		return 2
	}
	if *sigPath == "" {
		*sigPath = file + ".minisig"
	}
	cfg, log, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	o, err := agent.UpdateOptions(cfg, log)
	if err != nil {
		return fail(e.stderr, err)
	}
	sig, err := os.Open(*sigPath)
	if err != nil {
		return fail(e.stderr, fmt.Errorf("self-update: signature: %w", err))
	}
	defer sig.Close()
	res, err := selfupdate.Install(ctx, o, file, sig)
	if err != nil {
		return fail(e.stderr, err)
	}
	fmt.Fprintf(e.stdout, "installed omniagent %s in place of %s (%s), signed by key %s; previous binary kept as %s\n", res.To, res.From, res.Exe, res.KeyID, res.Previous)
	switch {
	case os.Getenv(jobs.EnvJobServer) != "":
		fmt.Fprintln(e.stdout, "the agent restarts into it when the current cycle ends")
	case *noRestart:
		fmt.Fprintln(e.stdout, "the running agent picks it up at its next restart")
	default:
		restartService(e, cf.config)
	}
	return 0
}

// restartService restarts an installed, running service so it runs the new binary.
func restartService(e *env, configPath string) {
	so, err := serviceOptions(configPath)
	if err == nil {
		var m installer.Manager
		if m, err = installer.NewManager(so); err == nil {
			var st string
			if st, err = m.Status(); err == nil && st == "running" {
				if err = m.Restart(); err == nil {
					fmt.Fprintln(e.stdout, "service restarted")
					return
				}
			} else if err == nil {
				fmt.Fprintf(e.stdout, "service %s: the next start runs the new binary\n", st)
				return
			}
		}
	}
	fmt.Fprintf(e.stdout, "could not restart the service (%v): restart it to run the new binary\n", err)
}

// daemonUpdate is the daemon's side of self-update: the boot check, the health confirmation,
// and the restart into a binary a job installed.
type daemonUpdate struct {
	o       selfupdate.Options
	log     *slog.Logger
	started time.Time
	store   func() *state.Store
	exit    func()
	restart atomic.Bool
	once    sync.Once
	// prove: this binary is a pending update (Boot said so); only then can a confirmation
	// succeed, so only then does the daemon run the uptime watch.
	prove bool
}

func newDaemonUpdate(cfg *config.Config, log *slog.Logger) (*daemonUpdate, error) {
	o, err := agent.UpdateOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	return &daemonUpdate{o: o, log: log, started: time.Now()}, nil
}

// boot runs before anything else of the daemon. It returns true when the previous binary was
// restored and the process must restart into it.
func (d *daemonUpdate) boot() bool {
	act, err := selfupdate.Boot(d.o)
	if err != nil {
		d.log.Error("self-update check at start failed", "err", err)
	}
	d.prove = act == selfupdate.Prove
	return act == selfupdate.RestartPrevious
}

// afterCycles runs at the scheduler's idle point: a successful cycle confirms a pending
// update; a binary swapped in by a job makes the daemon restart into it.
func (d *daemonUpdate) afterCycles() {
	// One small file read per idle point; the statuses are read only while this binary still
	// has to prove healthy.
	m, ok, err := selfupdate.ReadMarker(d.o.StateDir)
	if err != nil || !ok || m.State != selfupdate.StatePending {
		return
	}
	switch {
	case m.To == version.Version:
		if st := d.store(); st != nil {
			if list, err := st.Statuses(); err == nil {
				for _, s := range list {
					if s.LastContact.After(d.started) {
						d.confirm("first successful cycle of server " + s.Server)
						break
					}
				}
			}
		}
	case m.Attempts == 0:
		// Swapped in while this older binary runs (by a job, or `omniagent self-update`).
		d.log.Warn("a new agent binary was installed; restarting into it", "from", version.Version, "to", m.To)
		d.restart.Store(true)
		d.exit()
	}
}

func (d *daemonUpdate) confirm(why string) {
	d.once.Do(func() {
		ok, err := selfupdate.Confirm(d.o.StateDir, version.Version, why)
		switch {
		case err != nil:
			d.log.Error("could not confirm the agent update", "err", err)
		case ok:
			d.log.Info("agent update confirmed healthy", "version", version.Version, "by", why)
		}
	})
}

// startWatch starts watch when this binary must prove healthy. Otherwise there is nothing
// to confirm, and a daemon that is not an update in trial runs no goroutine or timer for it.
func (d *daemonUpdate) startWatch(ctx context.Context) {
	if d.prove {
		go d.watch(ctx, healthyAfter)
	}
}

// watch confirms after `after` of uptime, whatever the servers do.
func (d *daemonUpdate) watch(ctx context.Context, after time.Duration) {
	t := time.NewTimer(after)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		d.confirm(fmt.Sprintf("up %s without a crash", after))
	}
}

// finish restarts into the new binary when an update asked for it; it returns only when it
// did not (or could not) replace the process.
func (d *daemonUpdate) finish(err error) error {
	if !d.restart.Load() {
		return err
	}
	exe, xerr := os.Executable()
	if xerr != nil {
		return errors.Join(err, xerr)
	}
	if runtime.GOOS == "windows" && !installer.Interactive() {
		// The service's recovery action starts the new binary: exit non-zero.
		return errors.New("restarting into the updated agent binary")
	}
	if rerr := selfupdate.Restart(exe, os.Args[1:]); rerr != nil {
		return errors.Join(err, rerr)
	}
	os.Exit(0) // Windows, by hand: the new process runs on
	return nil
}
