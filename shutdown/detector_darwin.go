package shutdown

import (
	"context"
	"log/slog"

	"golang.org/x/sys/unix"
)

// NewDetector returns the macOS detector. launchd sends the same SIGTERM for `launchctl
// bootout`/unload as for a shutdown; the kernel's kern.willshutdown sysctl, set once the
// system shutdown has begun, tells them apart when launchd has set it before signalling us.
// When it has not, a shutdown looks like a plain stop and the actions are skipped (the safe
// side). macOS does not tell a restart from a power-off here: both count as a shutdown.
func NewDetector(n *Notice, _ *slog.Logger) Detector {
	return &either{n: n, check: func(context.Context) bool {
		v, err := unix.SysctlUint32("kern.willshutdown")
		return err == nil && v != 0
	}}
}
