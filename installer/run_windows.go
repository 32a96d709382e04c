//go:build windows

package installer

import (
	"fmt"

	"golang.org/x/sys/windows/svc"

	"github.com/omniagent/omniagent/packaging"
)

// RunService runs prg under the Windows SCM. The handler accepts Stop, Shutdown and
// PreShutdown, which arrives early enough (before the network goes down) for shutdown actions.
func RunService(prg *Program, o Options) error {
	h := &handler{prg: prg}
	if err := svc.Run(packaging.ServiceName, h); err != nil {
		return fmt.Errorf("installer: windows service: %w", err)
	}
	return h.err
}

// acceptedControls are the SCM controls the handler accepts.
const acceptedControls = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptPreShutdown

// Compile-time checks that controls.go's codes and states match x/sys (a mismatch makes a negative constant
// or an array index out of range).
var (
	_ = [1]struct{}{}[svc.Stop-ctlStop]
	_ = [1]struct{}{}[svc.Interrogate-ctlInterrogate]
	_ = [1]struct{}{}[svc.Shutdown-ctlShutdown]
	_ = [1]struct{}{}[svc.PreShutdown-ctlPreShutdown]
	_ = [1]struct{}{}[svc.Stopped-stateStopped]
	_ = [1]struct{}{}[svc.StartPending-stateStartPending]
	_ = [1]struct{}{}[svc.StopPending-stateStopPending]
	_ = [1]struct{}{}[svc.Running-stateRunning]
	_ = [1]struct{}{}[svc.ContinuePending-stateContinuePending]
	_ = [1]struct{}{}[svc.PausePending-statePausePending]
	_ = [1]struct{}{}[svc.Paused-statePaused]
)

type handler struct {
	prg *Program
	err error
}

// Execute implements svc.Handler.
func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, changes chan<- svc.Status) (bool, uint32) {
	changes <- svc.Status{State: svc.StartPending}
	if err := h.prg.Start(); err != nil {
		h.err = err
		return true, 1
	}
	changes <- svc.Status{State: svc.Running, Accepts: acceptedControls}
	reqs := make(chan ctlRequest)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			select {
			case c := <-r:
				cur := c.CurrentStatus
				select {
				case reqs <- ctlRequest{cmd: uint32(c.Cmd), interrogate: func() { changes <- cur }}:
				case <-quit:
					return
				}
			case <-quit:
				return
			}
		}
	}()
	code, err := serveControls(h.prg, reqs, func() {
		changes <- svc.Status{State: svc.StopPending, WaitHint: 30000}
	})
	if err != nil {
		h.err = err
		return true, code
	}
	return false, 0
}
