package mig

import (
	"log/slog"
	"sync"
	"time"
)

// pending is one result body waiting for the broker's confirm.
type pending struct {
	body     []byte
	queued   time.Time
	attempts int // publishes tried; a body the broker keeps refusing is dropped after maxAttempts
}

// maxAttempts bounds how often one result is published before it is given up: a body the broker
// refuses every time (larger than its message size limit, say) must not loop the session.
const maxAttempts = 5

// outbox keeps results in memory until the relay confirms them, so a connection lost while a
// command runs (or while publishing) does not lose its answer: the next session republishes.
type outbox struct {
	mu    sync.Mutex
	items []*pending
	max   int
	log   *slog.Logger
	wake  chan struct{} // signalled (without blocking) on push
}

func newOutbox(max int, log *slog.Logger) *outbox {
	return &outbox{max: max, log: log, wake: make(chan struct{}, 1)}
}

// push queues a result; past the cap the oldest is dropped (it is the likeliest to have
// expired on the scheduler's side).
func (o *outbox) push(body []byte, now time.Time) {
	o.mu.Lock()
	o.items = append(o.items, &pending{body: body, queued: now})
	if len(o.items) > o.max {
		o.items = o.items[1:]
		o.log.Warn("mig: too many results waiting for the relay; oldest dropped", "max_pending_results", o.max)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) front() (*pending, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.items) == 0 {
		return nil, false
	}
	return o.items[0], true
}

// pop removes p if it is still queued (the cap may have dropped it meanwhile).
func (o *outbox) pop(p *pending) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, q := range o.items {
		if q == p {
			o.items = append(o.items[:i], o.items[i+1:]...)
			return
		}
	}
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}
