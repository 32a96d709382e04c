package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/omniagent/omniagent/collectors"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

func cmdInventory(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("inventory", "inventory [--format json|text] [--config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	format := fs.String("format", "text", "output format: json, text, or a protocol name ("+strings.Join(formatProtocols(e), ", ")+") to print what that protocol would send")
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	var protoFormat func(context.Context, *inventory.Inventory, identity.Identity) ([]byte, error)
	switch *format {
	case "json", "text":
	default:
		p, ok := e.reg.Lookup(*format)
		if !ok || p.FormatInventory == nil {
			fmt.Fprintf(e.stderr, "omniagent inventory: unknown format %q (want json, text or one of: %s)\n", *format, strings.Join(formatProtocols(e), ", "))
			return 2
		}
		protoFormat = p.FormatInventory
	}
	cfg, log, err := cf.load(e)
	if err != nil {
		return fail(e.stderr, err)
	}
	// Read-only: the identity is computed, not persisted, so this works without root.
	id, err := identity.Resolve(ctx, identity.Options{Hostname: cfg.Agent.Hostname, MachineUID: cfg.Agent.MachineUID}, nil)
	if err != nil {
		return fail(e.stderr, err)
	}
	prov := collectors.New(collectors.Options{Identity: id, Disable: cfg.Inventory.Disabled(), CategoryTimeout: cfg.Inventory.CategoryTimeout.D(), Logger: log})
	inv, err := prov.Inventory(ctx)
	if err != nil {
		return fail(e.stderr, err)
	}
	if protoFormat != nil {
		out, err := protoFormat(ctx, inv, id)
		if err != nil {
			return fail(e.stderr, err)
		}
		if _, err := e.stdout.Write(out); err != nil {
			return fail(e.stderr, err)
		}
		return 0
	}
	switch *format {
	case "json":
		if err := inventory.WriteJSON(e.stdout, inv); err != nil {
			return fail(e.stderr, err)
		}
	default:
		if err := inventory.WriteText(e.stdout, inv); err != nil {
			return fail(e.stderr, err)
		}
	}
	return 0
}

// formatProtocols lists the protocols that can render the inventory in their wire format.
func formatProtocols(e *env) []string {
	var out []string
	for _, n := range e.reg.Names() {
		if p, _ := e.reg.Lookup(n); p.FormatInventory != nil {
			out = append(out, n)
		}
	}
	return out
}
