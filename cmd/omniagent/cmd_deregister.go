package main

import (
	"context"
	"fmt"

	"github.com/omniagent/omniagent/agent"
)

// deregisterer is an adapter that can delete its own record on its server (JumpCloud).
type deregisterer interface {
	Deregister(ctx context.Context) error
	SystemKey() (string, error)
}

func cmdDeregister(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("deregister", "deregister --server NAME [--yes] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	name := fs.String("server", "", "the server (by name) whose record of this machine is deleted")
	yes := fs.Bool("yes", false, "really delete; without it, only say what would happen")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return extraArg(e, "deregister", fs.Arg(0))
	}
	if *name == "" {
		fmt.Fprintln(e.stderr, "omniagent deregister: --server NAME is required")
		return 2
	}
	cfg, log, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	a, err := agent.Build(ctx, cfg, log, agent.Options{Registry: e.reg, OnlyServer: *name})
	if err != nil {
		return fail(e.stderr, err)
	}
	defer a.Close()
	srv := a.Servers[0]
	d, ok := srv.Adapter.(deregisterer)
	if !ok {
		return fail(e.stderr, fmt.Errorf("server %q (%s) has no deregistration", srv.Name, srv.Protocol))
	}
	key, err := d.SystemKey()
	if err != nil {
		return fail(e.stderr, err)
	}
	if !*yes {
		fmt.Fprintf(e.stdout, "This would DELETE system %s from server %q (%s).\n"+
			"JumpCloud then also uninstalls its own agent from this machine and ends the user management it provides.\n"+
			"Run again with --yes to do it.\n", key, srv.Name, srv.Protocol)
		return 1
	}
	if err := d.Deregister(ctx); err != nil {
		return fail(e.stderr, fmt.Errorf("deregister from %s: %w", srv.Name, err))
	}
	fmt.Fprintf(e.stdout, "deleted system %s from server %q; omniagent does nothing more for it until the machine is enrolled again\n", key, srv.Name)
	return 0
}
