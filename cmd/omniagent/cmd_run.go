package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/installer"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/progress"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/scheduler"
	"github.com/omniagent/omniagent/shutdown"
	"github.com/omniagent/omniagent/state"
	"github.com/omniagent/omniagent/version"
)

func cmdRun(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("run", "[run] [--oneshot [--force-update] [--server NAME]] [--config FILE] [--log-level LEVEL] [--state-dir DIR]", e)
	var cf commonFlags
	cf.register(fs)
	oneshot := fs.Bool("oneshot", false, "run one cycle of every configured server, print a summary line per server and exit: 0 all ok, 1 an exchange failed, 3 only jobs failed")
	force := fs.Bool("force-update", false, "with --oneshot: send the full inventory even if the server did not ask for it")
	only := fs.String("server", "", "with --oneshot: run only the server with this name")
	asService := fs.Bool("service", false, "run under the service manager (the Windows service is registered with it; detected when absent)")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "omniagent run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if (*force || *only != "") && !*oneshot {
		fmt.Fprintln(e.stderr, "omniagent run: --force-update and --server go with --oneshot")
		return exitUsage
	}
	if *asService && *oneshot {
		fmt.Fprintln(e.stderr, "omniagent run: --service and --oneshot do not go together")
		return 2
	}
	serviceMode := !*oneshot && installer.ServiceMode(*asService)
	e, closeLog := serviceLogEnv(e, serviceMode) // journald / Event Log / /Library/Logs under a service manager
	defer closeLog()
	notice := &shutdown.Notice{} // raised by the Windows service handler on (pre)shutdown
	// --oneshot on a terminal: a bar per download and a live line per server, the log
	// printed above them. Elsewhere progress goes to the log.
	var term *progress.Terminal
	if f, ok := e.stderr.(*os.File); ok && *oneshot {
		if tty, width := progress.IsTerminal(f); tty {
			term = progress.NewTerminal(f, width, nil)
			defer func() {
				if term != nil {
					term.Close()
				}
			}()
			te := *e
			te.stderr = term
			e = &te
		}
	}
	cfg, log, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	if *oneshot && len(cfg.Servers) > 0 && daemonBusy(ctx, e.stderr, cfg) {
		return exitFailed
	}
	if *only != "" && !hasServer(cfg, *only) {
		return fail(e.stderr, usageError{fmt.Errorf("no enabled server named %q in %s", *only, cfg.Source)})
	}
	var upd *daemonUpdate
	var afterCycles func()
	if !*oneshot {
		if upd, err = newDaemonUpdate(cfg, log); err != nil {
			return fail(e.stderr, err)
		}
		if upd.boot() { // a failed update was rolled back: run the restored binary now
			upd.restart.Store(true)
			return fail(e.stderr, upd.finish(nil))
		}
		afterCycles = upd.afterCycles
		if version.BrokenBuild != "" {
			return fail(e.stderr, fmt.Errorf("this build is broken on purpose (%s): a self-update test release", version.BrokenBuild))
		}
	}
	a, err := agent.Build(ctx, cfg, log, agent.Options{
		AfterCycles: afterCycles,
		Registry:    e.reg,
		Run:         protocols.Options{Oneshot: *oneshot, ForceUpdate: *force},
		OnlyServer:  *only,
		Shutdown:    shutdown.NewDetector(notice, log), // OS shutdown vs plain stop, for on_shutdown actions
		Progress:    watcher(term, log),
		OnCycle:     onCycle(term),
	})
	if err != nil {
		return fail(e.stderr, err)
	}
	if !*oneshot {
		log.Info("omniagent started", "config", cfg.Source, "servers", len(a.Servers), "machine_uid", a.Identity.MachineUID)
		upd.store, upd.exit = func() *state.Store { return a.Store }, a.RequestExit
		run := func(ctx context.Context) error {
			upd.startWatch(ctx)
			return upd.finish(a.Run(ctx))
		}
		if serviceMode { // started by systemd/launchd/the SCM: report status to it
			return runAsService(e, run, cf.config, notice, log)
		}
		if err := run(ctx); err != nil {
			return fail(e.stderr, err)
		}
		log.Info("omniagent stopped")
		return 0
	}
	if len(a.Servers) == 0 {
		inv, err := a.Inventory.Inventory(ctx)
		if err != nil {
			return fail(e.stderr, err)
		}
		fmt.Fprintf(e.stdout, "No server configured (%s): inventory only.\n\n", cfg.Source)
		if err := inventory.WriteText(e.stdout, inv); err != nil {
			return fail(e.stderr, err)
		}
		return 0
	}
	outcomes := a.Oneshot(ctx)
	if term != nil {
		term.Close() // the block goes before the summary
		term = nil
	}
	return printOutcomes(e.stdout, outcomes, time.Now())
}

// printOutcomes prints one line per server and returns the exit code: 1 when an exchange
// failed, else 3 when a job failed, else 0.
func printOutcomes(w io.Writer, outcomes []scheduler.Outcome, now time.Time) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tRESULT\tDURATION\tNEXT RUN\tDETAIL")
	code := exitOK
	for _, o := range outcomes {
		switch {
		case o.Err != nil:
			code = exitFailed
		case o.JobsFailed > 0 && code == exitOK:
			code = exitJobsFailed
		}
		next := now.Add(o.Next).Format("2006-01-02 15:04:05")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Server, o.Protocol, o.ResultText(), o.Duration.Round(time.Millisecond), next, o.Detail())
	}
	tw.Flush()
	return code
}

func hasServer(cfg *config.Config, name string) bool {
	for _, s := range cfg.Servers {
		if s.Name == name && !s.Disabled {
			return true
		}
	}
	return false
}

// watcher is where download progress goes: the terminal's bars, else the log (at most every
// 10 % or 10 s).
func watcher(term *progress.Terminal, log *slog.Logger) jobs.ProgressWatcher {
	if term != nil {
		return term
	}
	return progress.NewLog(log, nil)
}

func onCycle(term *progress.Terminal) func(string, *scheduler.Outcome) {
	if term == nil {
		return nil
	}
	return term.Cycle
}
