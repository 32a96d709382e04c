package shutdown

import (
	"log/slog"
	"os"
)

// NewDetector returns the Linux detector: systemd's manager state (see Systemd), or the Notice
// for a wrapper that learns of a shutdown another way. log gets why systemd could not be asked
// (nil: discarded).
func NewDetector(n *Notice, log *slog.Logger) Detector {
	d := &Systemd{Root: "/", UID: os.Getuid(), Logger: log}
	return &either{n: n, check: d.SystemShuttingDown}
}
