package protocols

import "context"

// Request is a "run now" asked for one cycle: `omniagent trigger` on the local control channel,
// or GLPI's "Request inventory" button calling the agent's listener.
type Request struct {
	// ForceUpdate sends the full inventory whatever the server says (trigger --force-update).
	ForceUpdate bool
	// Categories, when set, asks for a partial inventory of these categories only (GLPI's
	// /now?partial=yes&category=software). Empty: the normal cycle.
	Categories []string
	// Source names who asked ("local trigger", "glpi listener 10.0.0.5"), for the log.
	Source string
}

type requestKey struct{}

// WithRequest marks ctx as carrying a run-now request for the cycle it is passed to.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the run-now request of this cycle, if the cycle was asked for.
func RequestFrom(ctx context.Context) (Request, bool) {
	r, ok := ctx.Value(requestKey{}).(Request)
	return r, ok
}

// Effective merges the command-line options with the cycle's run-now request: a requested
// cycle runs now (as in --oneshot for what is due) and may force the full inventory.
func (o Options) Effective(ctx context.Context) Options {
	if r, ok := RequestFrom(ctx); ok {
		o.ForceUpdate = o.ForceUpdate || r.ForceUpdate
	}
	return o
}
