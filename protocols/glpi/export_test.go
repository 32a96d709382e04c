package glpi

import (
	"context"
	"log/slog"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// DroppedFields lists what the repair removed from an inventory's message.
func DroppedFields(inv *inventory.Inventory, id identity.Identity) []string {
	_, d, _ := buildDocument(inv, "x-2026-01-01-00-00-00", "", mapOptions{Version: id.AgentVersion}, nil, slog.New(slog.DiscardHandler))
	return d
}

// RegisterWith runs REGISTER with a fixed agent secret (the note's test vector).
func (a *Adapter) RegisterWith(ctx context.Context, g [8]byte) error {
	return a.register(ctx, func() [8]byte { return g })
}

// SaveState persists the in-memory state (as the end of a cycle does).
func (a *Adapter) SaveState() error { return a.save() }
