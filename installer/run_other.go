//go:build !windows

package installer

import (
	"os"
	"os/signal"
	"syscall"
)

// RunService runs prg under the service manager that started us (systemd, launchd) until it
// sends SIGTERM or SIGINT, or until the agent ends on its own (watchdog, a server asking for a
// restart): waiting for a signal only would leave a live process that does nothing. The error
// makes the exit code non-zero and the unit's Restart=on-failure (or launchd's KeepAlive)
// starts us again.
func RunService(prg *Program, _ Options) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := prg.Start(); err != nil {
		return err
	}
	select {
	case <-sig:
		return prg.Stop()
	case <-prg.Done():
		prg.mu.Lock()
		defer prg.mu.Unlock()
		return prg.err
	}
}
