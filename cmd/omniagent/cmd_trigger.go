package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/control"
	"github.com/omniagent/omniagent/scheduler"
)

// triggerLimit bounds how long `omniagent trigger` waits for the daemon's cycles (the
// scheduler's own cycle limit is 30 minutes).
const triggerLimit = 35 * time.Minute

func cmdTrigger(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("trigger", "trigger [--server NAME] [--force-update] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	force := fs.Bool("force-update", false, "send the full inventory even if the server did not ask for it")
	only := fs.String("server", "", "run only the server with this name (default: every server)")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "omniagent trigger: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, _, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, triggerLimit)
	defer cancel()
	resp, err := control.Call(ctx, stateDir(cfg), control.Request{Cmd: control.CmdTrigger, Server: *only, ForceUpdate: *force})
	if errors.Is(err, control.ErrNoDaemon) {
		return fail(e.stderr, fmt.Errorf("%w: is the service running? (`omniagent --oneshot` runs the servers once without it)", err))
	}
	if err != nil {
		return fail(e.stderr, err)
	}
	if resp.Error != "" {
		return fail(e.stderr, fmt.Errorf("the daemon: %s", resp.Error))
	}
	outcomes := make([]scheduler.Outcome, len(resp.Outcomes))
	for i, o := range resp.Outcomes {
		outcomes[i] = scheduler.Outcome{Server: o.Server, Protocol: o.Protocol, Started: o.Started, Duration: o.Duration, Next: o.Next}
		outcomes[i].Result.Summary = o.Summary
		if o.Error != "" {
			outcomes[i].Err = errors.New(o.Error)
		}
	}
	return printOutcomes(e.stdout, outcomes, time.Now())
}

func stateDir(cfg *config.Config) string {
	if cfg.Agent.StateDir != "" {
		return cfg.Agent.StateDir
	}
	return config.DefaultStateDir()
}

// daemonBusy is --oneshot's guard: a daemon answering on the control channel would fight a
// second agent over the servers' sessions and the state files.
func daemonBusy(ctx context.Context, w io.Writer, cfg *config.Config) bool {
	if _, ok := control.Answers(ctx, stateDir(cfg)); !ok {
		return false
	}
	fmt.Fprintf(w, "omniagent: the omniagent daemon is running (it answers on %s): use `omniagent trigger` to run its servers now\n", control.Address(stateDir(cfg)))
	return true
}

// printLive shows what the running daemon is doing; false when no daemon answers.
func printLive(ctx context.Context, w io.Writer, cfg *config.Config) bool {
	l, ok := control.Answers(ctx, stateDir(cfg))
	if !ok {
		return false
	}
	fmt.Fprintf(w, "daemon: running (pid %d, since %s)\n", l.PID, when(l.Started))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tNOW\tQUEUED TRIGGERS\tNEXT RUN\tSESSION")
	for _, s := range l.Servers {
		now, next := "waiting", when(s.NextRun)
		if s.Running {
			now, next = "cycle running since "+s.RunningSince.Local().Format("15:04:05"), "-"
		}
		sess := s.Session
		if sess == "" {
			sess = "-"
		} else if s.SessionFailures > 0 {
			sess = fmt.Sprintf("%s (%d failures)", sess, s.SessionFailures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.Server, s.Protocol, now, s.Pending, next, sess)
	}
	tw.Flush()
	for _, s := range l.Servers {
		keys := slices.Sorted(maps.Keys(s.Details))
		for _, k := range keys {
			if strings.Contains(k, "queue") || strings.Contains(k, "spool") || strings.Contains(k, "pending") {
				fmt.Fprintf(w, "%s: %s: %s\n", s.Server, k, s.Details[k])
			}
		}
	}
	fmt.Fprintln(w)
	return true
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
