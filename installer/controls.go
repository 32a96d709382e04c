package installer

import (
	"context"
	"fmt"
	"time"
)

// Windows service control codes (winsvc.h); run_windows.go checks at compile time that they
// match golang.org/x/sys/windows/svc, which only builds on Windows.
const (
	ctlStop        = 0x1
	ctlInterrogate = 0x4
	ctlShutdown    = 0x5
	ctlPreShutdown = 0xF
)

type act int

const (
	actIgnore act = iota
	actInterrogate
	actStop
	actShutdown
)

// action maps an SCM control to what the handler does: pre-shutdown and shutdown raise the
// shutdown notice before stopping. Kept OS-independent so it is tested on every platform.
func action(c uint32) act {
	switch c {
	case ctlInterrogate:
		return actInterrogate
	case ctlStop:
		return actStop
	case ctlPreShutdown, ctlShutdown:
		return actShutdown
	}
	return actIgnore
}

// ctlRequest is one SCM control as the OS-independent loop sees it.
type ctlRequest struct {
	cmd         uint32
	interrogate func() // answers an Interrogate with the current status
}

// serveControls runs after p started: it answers SCM controls until a stop or (pre)shutdown,
// raising p.Notice before stopping on a shutdown, or until the agent ends on its own.
// stopPending reports StopPending to the SCM. It returns the service exit code (0: clean).
func serveControls(p *Program, reqs <-chan ctlRequest, stopPending func()) (uint32, error) {
	done := p.Done()
	for {
		select {
		case <-done:
			// The agent ended on its own (fatal error): a non-zero code makes the SCM apply
			// the recovery action.
			p.mu.Lock()
			err := p.err
			p.mu.Unlock()
			if err != nil {
				return 3, err
			}
			return 0, nil
		case c := <-reqs:
			switch action(c.cmd) {
			case actInterrogate:
				if c.interrogate != nil {
					c.interrogate()
				}
			case actShutdown:
				if p.Notice != nil {
					p.Notice.Raise()
				}
				fallthrough
			case actStop:
				stopPending()
				if err := p.Stop(); err != nil {
					return 2, err
				}
				return 0, nil
			}
		}
	}
}

// Windows service states (winsvc.h SERVICE_STOPPED…); run_windows.go checks them against x/sys.
const (
	stateStopped         = 0x1
	stateStartPending    = 0x2
	stateStopPending     = 0x3
	stateRunning         = 0x4
	stateContinuePending = 0x5
	statePausePending    = 0x6
	statePaused          = 0x7
)

// scmStatus maps an SCM service state to a status: a service on its way up counts as running,
// one on its way down or paused as stopped.
func scmStatus(state uint32) (string, error) {
	switch state {
	case stateRunning, stateStartPending, stateContinuePending:
		return "running", nil
	case stateStopped, stateStopPending, statePausePending, statePaused:
		return "stopped", nil
	}
	return "unknown", fmt.Errorf("installer: unknown service state %d", state)
}

// waitStopped polls query every interval until the service is stopped or ctx ends.
func waitStopped(ctx context.Context, query func() (uint32, error), every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st, err := query()
		if err != nil {
			return fmt.Errorf("installer: query the service: %w", err)
		}
		if st == stateStopped {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("installer: the service did not stop (state %d): %w", st, ctx.Err())
		case <-t.C:
		}
	}
}
