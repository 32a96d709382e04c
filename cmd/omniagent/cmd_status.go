package main

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/state"
)

func cmdStatus(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("status", "status [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	cfg, _, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	fmt.Fprintf(e.stdout, "service: %s\n", serviceStatus())
	if !printLive(ctx, e.stdout, cfg) { // the running daemon's live state first
		fmt.Fprintln(e.stdout, "daemon: not answering (state files below)")
	}
	dir := cfg.Agent.StateDir
	if dir == "" {
		dir = config.DefaultStateDir()
	}
	if len(cfg.Servers) == 0 {
		fmt.Fprintf(e.stdout, "no server configured in %s\n", cfg.Source)
		return 0
	}
	st, err := state.OpenExisting(dir)
	if err != nil {
		fmt.Fprintf(e.stdout, "no state yet (%v): the agent has not run\n", err)
		return 0
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tLAST CONTACT\tRESULT\tNEXT RUN\tLAST ERROR")
	var details []string
	for _, s := range cfg.Servers {
		rec, ok, err := st.LoadStatus(s.Name)
		if err != nil {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t%v\n", s.Name, s.Protocol, err)
			continue
		}
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\tnever\t-\t-\t\n", s.Name, s.Protocol)
			continue
		}
		res := rec.LastResult
		if rec.Failures > 1 {
			res = fmt.Sprintf("%s (%d in a row)", res, rec.Failures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Protocol, when(rec.LastContact), res, when(rec.NextRun), rec.LastError)
		keys := make([]string, 0, len(rec.Details))
		for k := range rec.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			details = append(details, fmt.Sprintf("%s: %s: %s", s.Name, k, rec.Details[k]))
		}
	}
	tw.Flush()
	for _, d := range details {
		fmt.Fprintln(e.stdout, d)
	}
	return 0
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
