package mig

import (
	"log/slog"
	"testing"
	"time"
)

func TestOutboxCapAndPop(t *testing.T) {
	o := newOutbox(2, slog.New(slog.DiscardHandler))
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
