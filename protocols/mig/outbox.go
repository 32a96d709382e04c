package mig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/omniagent/omniagent/state"
)

// pending is one result body waiting for the broker's confirm.
type pending struct {
	body     []byte
	queued   time.Time
	attempts int // publishes the broker refused because of this body; dropped at maxAttempts
}

// maxAttempts bounds how often the broker may refuse one result (nack, returned unroutable,
// over its size limit) before it is given up: such a body must not loop the session forever.
// Failures that are not the result's fault (relay down, connection lost) never count: those
// results wait until their TTL.
const maxAttempts = 5

// outbox keeps results until the relay confirms them, so a connection lost while a command
// runs (or while publishing) does not lose its answer: the next session republishes. With a
// path, the queue is also on disk (written atomically at every change), so a crash or restart
// does not lose it either.
type outbox struct {
	mu    sync.Mutex
	items []*pending
	max   int
	log   *slog.Logger
	wake  chan struct{} // signalled (without blocking) on push
	path  string        // "" keeps the queue in memory only
}

// savedResult is one queued result on disk.
type savedResult struct {
	Body     []byte    `json:"body"`
	Queued   time.Time `json:"queued"`
	Attempts int       `json:"attempts"`
}

// newOutbox returns an outbox, reloading the results a previous run left at path. A file that
// cannot be read is reported and set aside (renamed .corrupt), never overwritten.
func newOutbox(max int, log *slog.Logger, path string) *outbox {
	o := &outbox{max: max, log: log, wake: make(chan struct{}, 1), path: path}
	if path == "" {
		return o
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return o
	}
	var saved []savedResult
	if err == nil {
		err = json.Unmarshal(raw, &saved)
	}
	if err != nil {
		log.Error("mig: queued results unreadable; set aside", "file", path, "err", err)
		if rerr := os.Rename(path, path+".corrupt"); rerr != nil {
			log.Error("mig: cannot set the queued results aside; they are kept in memory only", "file", path, "err", rerr)
			o.path = ""
		}
		return o
	}
	for _, r := range saved {
		o.items = append(o.items, &pending{body: r.Body, queued: r.Queued, attempts: r.Attempts})
	}
	if len(o.items) > max {
		o.items = o.items[len(o.items)-max:]
	}
	if len(o.items) > 0 {
		log.Info("mig: results from the previous run queued for the relay", "count", len(o.items))
		o.wake <- struct{}{}
	}
	return o
}

// saveLocked writes the queue; o.mu is held. A failed write is logged: the results are still
// in memory and the next change tries again.
func (o *outbox) saveLocked() {
	if o.path == "" {
		return
	}
	saved := make([]savedResult, 0, len(o.items))
	for _, p := range o.items {
		saved = append(saved, savedResult{Body: p.body, Queued: p.queued, Attempts: p.attempts})
	}
	raw, err := json.Marshal(saved)
	if err == nil {
		err = state.WriteFileAtomic(o.path, raw, 0o600)
	}
	if err != nil {
		o.log.Error("mig: cannot save the queued results", "file", o.path, "err", fmt.Errorf("save result queue: %w", err))
	}
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
	o.saveLocked()
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
			o.saveLocked()
			return
		}
	}
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// refused counts one more refusal of p and returns the total (under the lock: saveLocked
// reads the count from other goroutines); the count is saved so a restart keeps it.
func (o *outbox) refused(p *pending) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	p.attempts++
	o.saveLocked()
	return p.attempts
}
