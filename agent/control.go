package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/omniagent/omniagent/control"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/scheduler"
)

// controlHandler answers the local control channel (`omniagent trigger`, `omniagent status`).
type controlHandler struct {
	a       *Agent
	started time.Time
}

// Trigger runs the named server's cycle now, or every server's, and waits for them.
func (h *controlHandler) Trigger(ctx context.Context, name string, force bool) ([]control.Outcome, error) {
	names := h.a.Sched.Names()
	if name != "" {
		names = []string{name}
	}
	if len(names) == 0 {
		return nil, errors.New("no server is configured")
	}
	req := protocols.Request{ForceUpdate: force, Source: "omniagent trigger"}
	chans := make([]<-chan scheduler.Outcome, len(names))
	for i, n := range names {
		ch, err := h.a.Sched.RunNow(n, req)
		if err != nil {
			if errors.Is(err, scheduler.ErrUnknownServer) {
				return nil, fmt.Errorf("no enabled server named %q in %s", n, h.a.Config.Source)
			}
			return nil, err
		}
		chans[i] = ch
	}
	out := make([]control.Outcome, len(names))
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case o := <-ch:
				out[i] = wire(o)
			case <-ctx.Done():
				out[i] = control.Outcome{Server: names[i], Error: "the agent is stopping"}
			}
		}()
	}
	wg.Wait()
	return out, nil
}

func wire(o scheduler.Outcome) control.Outcome {
	w := control.Outcome{Server: o.Server, Protocol: o.Protocol, Summary: o.Result.Summary, Started: o.Started, Duration: o.Duration, Next: o.Next}
	if o.Err != nil {
		w.Error = o.Err.Error()
	}
	return w
}

// Live is the daemon's state now.
func (h *controlHandler) Live() control.Live {
	l := control.Live{PID: os.Getpid(), Started: h.started, Version: h.a.Identity.AgentVersion}
	for _, s := range h.a.Sched.Live() {
		l.Servers = append(l.Servers, control.ServerLive{
			Server: s.Server, Protocol: s.Protocol, Running: s.Running, RunningSince: s.RunningSince,
			Pending: s.Pending, NextRun: s.NextRun, Session: s.Session, SessionFailures: s.SessionFailures,
			Details: s.Details,
		})
	}
	return l
}

// startControl opens the control channel in the state folder and serves it until ctx ends.
// The returned channel is closed when the server has stopped.
func (a *Agent) startControl(ctx context.Context) (<-chan struct{}, error) {
	done := make(chan struct{})
	if a.Store == nil {
		close(done)
		return done, nil
	}
	ln, err := control.Listen(a.Store.Dir())
	if err != nil {
		return nil, err
	}
	a.Logger.Info("control channel open: `omniagent trigger` and `omniagent status` talk to this daemon", "address", control.Address(a.Store.Dir()))
	h := &controlHandler{a: a, started: time.Now()}
	go func() {
		defer close(done)
		if err := control.Serve(ctx, ln, h, a.Logger.With("component", "control")); err != nil {
			a.Logger.Warn("control channel stopped", "err", err)
		}
	}()
	return done, nil
}
