//go:build !linux

package jobs

import (
	"context"
	"log/slog"
)

// StartReaper: there is no child subreaper here. On Windows the Job Object of each command
// keeps its whole tree; elsewhere a command's process group is killed on timeout or cancel.
func StartReaper(context.Context, *slog.Logger) (*Reaper, error) {
	return &Reaper{own: map[int]bool{}}, nil
}
