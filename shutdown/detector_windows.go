package shutdown

import (
	"context"
	"log/slog"

	"golang.org/x/sys/windows"
)

// smShuttingDown is GetSystemMetrics' SM_SHUTTINGDOWN: nonzero once a shutdown has begun.
const smShuttingDown = 0x2000

// NewDetector returns the Windows detector. The service wrapper raises n when the SCM sends
// SERVICE_CONTROL_PRESHUTDOWN or SERVICE_CONTROL_SHUTDOWN (a plain `sc stop` sends STOP and
// does not); GetSystemMetrics(SM_SHUTTINGDOWN) is a second witness. Windows does not tell a
// restart from a power-off at that point: both count as a shutdown.
func NewDetector(n *Notice, _ *slog.Logger) Detector {
	proc := windows.NewLazySystemDLL("user32.dll").NewProc("GetSystemMetrics")
	return &either{n: n, check: func(context.Context) bool {
		if proc.Find() != nil {
			return false
		}
		r, _, _ := proc.Call(smShuttingDown)
		return r != 0
	}}
}
