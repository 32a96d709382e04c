package mig

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOutboxCapAndPop(t *testing.T) {
	o := newOutbox(2, slog.New(slog.DiscardHandler), "")
	now := time.Now()
	for _, b := range []string{"a", "b", "c"} {
		o.push([]byte(b), now)
	}
	if o.len() != 2 {
		t.Fatalf("len = %d, want the cap", o.len())
	}
	p, ok := o.front()
	if !ok || string(p.body) != "b" {
		t.Fatalf("front = %v, want the oldest kept (b)", p)
	}
	select {
	case <-o.wake:
	default:
		t.Error("push did not signal the publisher")
	}
	o.pop(p)
	o.pop(p) // already gone: no effect
	if p, _ := o.front(); o.len() != 1 || string(p.body) != "c" {
		t.Errorf("after pop: len %d", o.len())
	}
}

// A queue with a path survives a restart: what was not confirmed is reloaded, what was confirmed
// is not; an unreadable file is set aside, not overwritten.
func TestOutboxPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	log := slog.New(slog.DiscardHandler)
	now := time.Now().UTC()
	o := newOutbox(10, log, path)
	o.push([]byte(`{"id":1}`), now)
	o.push([]byte(`{"id":2}`), now)
	p, _ := o.front()
	o.pop(p) // confirmed
	q0, _ := o.front()
	if o.refused(q0) != 1 || o.refused(q0) != 2 {
		t.Fatal("refusals not counted one by one")
	}

	again := newOutbox(10, log, path)
	if again.len() != 1 {
		t.Fatalf("reloaded %d results, want the unconfirmed one", again.len())
	}
	q, _ := again.front()
	if string(q.body) != `{"id":2}` || !q.queued.Equal(now) || q.attempts != 2 {
		t.Fatalf("reloaded %q queued %v refused %d times, want 2", q.body, q.queued, q.attempts)
	}
	select {
	case <-again.wake:
	default:
		t.Error("reloaded results do not wake the publisher")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("queue file: %v, %v", fi, err)
	}

	if err := os.WriteFile(path, []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := newOutbox(10, log, path)
	if broken.len() != 0 {
		t.Fatalf("corrupt file gave %d results", broken.len())
	}
	if b, err := os.ReadFile(path + ".corrupt"); err != nil || string(b) != "{half" {
		t.Fatalf("corrupt file not set aside: %q, %v", b, err)
	}
}
