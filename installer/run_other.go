//go:build !windows

package installer

import (
	"os"
	"os/signal"
	"syscall"
)

// RunService runs prg under the service manager that started us (systemd, launchd) until it
// sends SIGTERM or SIGINT, or until the agent ends on its own (watchdog, a server asking for a
// restart). kardianos' Run would keep waiting for a signal in that second case, leaving a live
// process that does nothing, so the loop is ours; the error makes the exit code non-zero and
// the unit's Restart=on-failure (or launchd's KeepAlive) starts us again.
func RunService(prg *Program, _ Options) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := prg.start(); err != nil {
		return err
	}
	select {
	case <-sig:
		return prg.stop()
	case <-prg.Done():
		prg.mu.Lock()
		defer prg.mu.Unlock()
		return prg.err
	}
}
