package shutdown

import "context"

// either reports a shutdown when the Notice was raised or the OS check says so.
type either struct {
	n     *Notice
	check func(ctx context.Context) bool
}

func (e *either) SystemShuttingDown(ctx context.Context) bool {
	return e.n.Raised() || (e.check != nil && e.check(ctx))
}
