package mig

import (
	"context"
	"time"

	"github.com/omniagent/omniagent/httpclient"
)

// SetTiming shortens the check-in idle wait and the reconnect back-off for tests.
func (a *Adapter) SetTiming(drainIdle, backoff time.Duration) {
	a.drainIdle, a.backoffBase, a.backoffMax = drainIdle, backoff, 4*backoff
}

// QueueLoc is the agent's queueloc (after the first Cycle or Serve).
func (a *Adapter) QueueLoc() string {
	a.prepMu.Lock()
	defer a.prepMu.Unlock()
	return a.queueLoc
}

// DropRelay closes the live relay connection's socket abruptly, as a network loss or a broker
// crash would. It reports whether there was a connection to drop.
func (a *Adapter) DropRelay() bool {
	rc := a.getLive()
	if rc == nil || rc.raw == nil {
		return false
	}
	rc.raw.Close()
	return true
}

// HandleRaw runs one command body as if it came from the relay (its result goes to the outbox).
func (a *Adapter) HandleRaw(ctx context.Context, body []byte) { a.handle(ctx, body) }

// Sessions counts relay connections Serve established.
func (a *Adapter) Sessions() int64 { return a.sessions.Load() }

// Pending is the number of results waiting for the relay.
func (a *Adapter) Pending() int { return a.outbox.len() }

// Exported internals for unit tests.
var (
	OSIdent      = osIdent
	DetectInit   = detectInit
	ValidAgentID = validAgentID
	NewAgentID   = newAgentID
	RedactURL    = httpclient.RedactURL
)
