package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/installer"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/scheduler"
	"github.com/omniagent/omniagent/shutdown"
)

func cmdRun(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("run", "[run] [--oneshot [--force-update] [--server NAME]] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	oneshot := fs.Bool("oneshot", false, "run one cycle of every configured server, print a summary line per server and exit (0 only if all succeeded)")
	force := fs.Bool("force-update", false, "with --oneshot: send the full inventory even if the server did not ask for it")
	only := fs.String("server", "", "with --oneshot: run only the server with this name")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "omniagent run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if (*force || *only != "") && !*oneshot {
		fmt.Fprintln(e.stderr, "omniagent run: --force-update and --server go with --oneshot")
		return 2
	}
	e, closeLog := serviceLogEnv(e, *oneshot) // journald / Event Log / /Library/Logs under a service manager
	defer closeLog()
	notice := &shutdown.Notice{} // raised by the Windows service handler on (pre)shutdown
	cfg, log, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	a, err := agent.Build(ctx, cfg, log, agent.Options{
		Registry:   e.reg,
		Run:        protocols.Options{Oneshot: *oneshot, ForceUpdate: *force},
		OnlyServer: *only,
		Shutdown:   shutdown.NewDetector(notice, log), // OS shutdown vs plain stop, for on_shutdown actions
	})
	if err != nil {
		return fail(e.stderr, err)
	}
	if !*oneshot {
		log.Info("omniagent started", "config", cfg.Source, "servers", len(a.Servers), "machine_uid", a.Identity.MachineUID)
		if !installer.Interactive() { // started by systemd/launchd/the SCM: report status to it
			return runAsService(e, a.Run, cf.config, notice, log)
		}
		if err := a.Run(ctx); err != nil {
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
	return printOutcomes(e.stdout, outcomes, time.Now())
}

func printOutcomes(w io.Writer, outcomes []scheduler.Outcome, now time.Time) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tRESULT\tDURATION\tNEXT RUN\tDETAIL")
	code := 0
	for _, o := range outcomes {
		res, detail := "ok", o.Result.Summary
		if o.Err != nil {
			res, detail, code = "failed", o.Err.Error(), 1
		}
		next := now.Add(o.Next).Format("2006-01-02 15:04:05")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Server, o.Protocol, res, o.Duration.Round(time.Millisecond), next, detail)
	}
	tw.Flush()
	return code
}
