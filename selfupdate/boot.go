package selfupdate

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// BootAction tells the daemon what to do after Boot.
type BootAction int

const (
	// Continue: start normally.
	Continue BootAction = iota
	// RestartPrevious: the previous binary was restored; restart into it now.
	RestartPrevious
	// Prove: this binary is a pending update; start normally and Confirm it once healthy.
	// Only after Prove can Confirm succeed for this process (Boot is what counts its start).
	Prove
)

// Boot runs first at every daemon start. A pending update counts this start; past
// MaxAttempts starts without proving healthy, the previous binary is restored, the failure
// recorded for `status`, and the caller must restart into it. Prove tells the caller this
// binary is the pending update, the only case where a later Confirm can succeed.
func Boot(o Options) (BootAction, error) {
	if err := o.fill(); err != nil {
		return Continue, err
	}
	cleanupAside(o.Exe)
	m, ok, err := ReadMarker(o.StateDir)
	if err != nil || !ok || m.State != StatePending {
		return Continue, err
	}
	switch o.Running {
	case m.To:
	case m.From:
		// The old binary is running again: the swap never took effect (or was undone by
		// hand). Nothing is in flight any more.
		m.State, m.Finished, m.Error = StateRolledBack, time.Now().UTC(), "the previous version "+m.From+" started instead of "+m.To
		return Continue, writeMarker(o.StateDir, m)
	default:
		return Continue, nil
	}
	m.Attempts++
	if m.Attempts <= MaxAttempts {
		o.Logger.Info("new agent binary starting; it must prove healthy", "version", m.To, "start", m.Attempts, "of", MaxAttempts)
		return Prove, writeMarker(o.StateDir, m)
	}
	if _, err := os.Stat(m.Previous); err != nil {
		m.Error = fmt.Sprintf("the new binary failed %d starts, and the previous binary %s is gone: %v", MaxAttempts, m.Previous, err)
		_ = writeMarker(o.StateDir, m)
		return Prove, fmt.Errorf("selfupdate: %s", m.Error)
	}
	if err := restore(o.Exe, m.Previous); err != nil {
		return Prove, fmt.Errorf("selfupdate: restoring %s failed: %w", filepath.Base(m.Previous), err)
	}
	m.State, m.Finished = StateRolledBack, time.Now().UTC()
	m.Error = fmt.Sprintf("%s did not stay up through %d starts; %s restored", m.To, MaxAttempts, m.From)
	if err := writeMarker(o.StateDir, m); err != nil {
		return RestartPrevious, err
	}
	o.Logger.Error("AGENT UPDATE FAILED: the new binary did not become healthy; the previous binary is restored", "from", m.From, "to", m.To, "starts", MaxAttempts)
	return RestartPrevious, nil
}

// Confirm marks a pending update done once the new binary proved healthy (a server's first
// cycle went through, or it stayed up long enough).
func Confirm(stateDir, running, why string) (bool, error) {
	m, ok, err := ReadMarker(stateDir)
	if err != nil || !ok || m.State != StatePending || m.To != running {
		return false, err
	}
	m.State, m.Finished, m.Confirmed = StateDone, time.Now().UTC(), why
	return true, writeMarker(stateDir, m)
}
