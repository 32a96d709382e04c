package scheduler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// ErrNotRunning is returned by RunNow when the scheduler's Run is not (or no longer) running.
var ErrNotRunning = errors.New("scheduler: not running")

// ErrUnknownServer is returned by RunNow for a name the running scheduler does not serve.
var ErrUnknownServer = errors.New("scheduler: no such server")

// waiter is one run-now request waiting for the cycle that serves it.
type waiter struct {
	req  protocols.Request
	done chan Outcome // buffered (1): delivery never blocks the loop
}

// runner is the live state of one server's loop: what `omniagent status` shows and where
// run-now requests queue.
type runner struct {
	srv  Server
	wake chan struct{} // capacity 1: "a request is pending"

	mu              sync.Mutex
	pending         []*waiter
	running         bool
	runningSince    time.Time
	next            time.Time
	session         string // "", "serving", "reconnecting"
	sessionFailures int
	details         map[string]string // the last cycle's details (queued inventory, mode...)
}

func newRunner(srv Server) *runner { return &runner{srv: srv, wake: make(chan struct{}, 1)} }

// take removes the pending requests and merges them into one: all requests that arrived
// before a cycle starts are served by that cycle.
func (r *runner) take() ([]*waiter, protocols.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := r.pending
	r.pending = nil
	select {
	case <-r.wake:
	default:
	}
	var req protocols.Request
	seen := map[string]bool{}
	full := false // one request for the whole cycle wins over partial ones
	for _, w := range ws {
		req.ForceUpdate = req.ForceUpdate || w.req.ForceUpdate
		if len(w.req.Categories) == 0 {
			full = true
		}
		for _, c := range w.req.Categories {
			if !seen[c] {
				seen[c] = true
				req.Categories = append(req.Categories, c)
			}
		}
		if req.Source == "" {
			req.Source = w.req.Source
		}
	}
	if full {
		req.Categories = nil
	}
	return ws, req
}

func (r *runner) setRunning(on bool, now time.Time) {
	r.mu.Lock()
	r.running, r.runningSince = on, now
	r.mu.Unlock()
}

// sleep waits d, ctx's end or a run-now request; it reports false when ctx ended. The wake
// token it may consume is only a hint: take() reads the pending list.
func (s *Scheduler) sleep(ctx context.Context, r *runner, d time.Duration) bool {
	return s.o.Clock.Sleep(ctx, d, r.wake)
}

// RunNow asks the running scheduler for a cycle of the named server now. The channel receives
// the outcome of the cycle that served the request (a request made while a cycle runs is
// served by the next one, which starts right after). The caller may stop listening at any time.
func (s *Scheduler) RunNow(name string, req protocols.Request) (<-chan Outcome, error) {
	// s.mu is held throughout so Run's final abandon cannot miss a request added meanwhile.
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[name]
	if s.runners == nil {
		return nil, ErrNotRunning
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownServer, name)
	}
	w := &waiter{req: req, done: make(chan Outcome, 1)}
	r.mu.Lock()
	r.pending = append(r.pending, w)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	r.mu.Unlock()
	return w.done, nil
}

// Names lists the servers the running scheduler serves, in configuration order.
func (s *Scheduler) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Live is one server's state in the running daemon.
type Live struct {
	Server, Protocol string
	Running          bool      // a cycle is in progress
	RunningSince     time.Time // when it started
	Pending          int       // run-now requests waiting for a cycle
	NextRun          time.Time // zero while a cycle runs or before the first
	Session          string    // "serving" (Serve runs), "reconnecting" or "" (no long-lived session)
	SessionFailures  int
	Details          map[string]string // the last cycle's details (queues, mode...)
}

// Live reports every server's state; empty when the scheduler is not running.
func (s *Scheduler) Live() []Live {
	s.mu.Lock()
	rs := make([]*runner, 0, len(s.order))
	for _, n := range s.order {
		rs = append(rs, s.runners[n])
	}
	s.mu.Unlock()
	out := make([]Live, 0, len(rs))
	for _, r := range rs {
		r.mu.Lock()
		out = append(out, Live{
			Server: r.srv.Name, Protocol: r.srv.Protocol, Running: r.running, RunningSince: r.runningSince,
			Pending: len(r.pending), NextRun: r.next, Session: r.session, SessionFailures: r.sessionFailures,
			Details: maps.Clone(r.details),
		})
		r.mu.Unlock()
	}
	return out
}

// abandon answers every request still pending when Run ends.
func (r *runner) abandon(err error) {
	ws, _ := r.take()
	for _, w := range ws {
		w.done <- Outcome{Server: r.srv.Name, Protocol: r.srv.Protocol, Err: err}
	}
}
