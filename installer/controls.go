package installer

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
				if err := p.stop(); err != nil {
					return 2, err
				}
				return 0, nil
			}
		}
	}
}
