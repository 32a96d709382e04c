// Package shutdown tells an operating-system shutdown from a plain service stop, so adapters can
// run their shutdown actions (JumpCloud on_shutdown) only when the machine is really going down.
package shutdown

import (
	"context"
	"sync/atomic"
)

// Detector reports whether the operating system is shutting down or powering off.
type Detector interface {
	SystemShuttingDown(ctx context.Context) bool
}

// Notice is raised by a service wrapper that learns of a shutdown from its service manager
// (the Windows SCM's pre-shutdown or shutdown control). Detectors read it.
type Notice struct{ v atomic.Bool }

// Raise records that the service manager announced a system shutdown.
func (n *Notice) Raise() { n.v.Store(true) }

// Raised tells whether a shutdown was announced.
func (n *Notice) Raised() bool { return n != nil && n.v.Load() }
