package main

import (
	"context"
	"fmt"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/selfupdate"
	"github.com/omniagent/omniagent/state"
	"github.com/omniagent/omniagent/status"
)

func cmdStatus(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("status", "status [--json] [--config FILE] [--state-dir DIR]", e)
	var cf commonFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON document (schema: docs/status.md) for monitoring systems")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	cfg, _, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	r := statusFromState(cfg, serviceStatus(), time.Now())
	if *asJSON {
		err = r.WriteJSON(e.stdout)
	} else {
		// The running daemon's live state first (cycles in progress, sessions, queues), then
		// what it recorded after each cycle.
		if len(cfg.Servers) > 0 && !printLive(ctx, e.stdout, cfg) {
			fmt.Fprintln(e.stdout, "daemon: not answering (state files below)")
		}
		err = r.WriteText(e.stdout, time.Now())
	}
	if err != nil {
		return fail(e.stderr, err)
	}
	return exitOK
}

// statusFromState reads what the daemon recorded after each cycle.
func statusFromState(cfg *config.Config, service string, now time.Time) status.Report {
	dir := cfg.Agent.StateDir
	if dir == "" {
		dir = config.DefaultStateDir()
	}
	var store *state.Store
	if len(cfg.Servers) > 0 {
		if st, err := state.OpenExisting(dir); err == nil {
			store = st
		}
	}
	r := status.FromState(cfg, dir, store, service, now)
	r.Update = selfupdate.Describe(dir)
	return r
}
