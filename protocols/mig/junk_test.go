package mig_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// syncBuffer is a log sink shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

// TestJunkFloodFolded: a relay pushing 200 junk messages (undecodable, or signed by an
// unknown key) gives a handful of WARN lines with one fixed message, not 2–3 per message; the
// count of the others comes out at the next heartbeat once the minute is over.
func TestJunkFloodFolded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	var mu sync.Mutex
	clock := time.Now()
	e.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	logs := &syncBuffer{}
	e.logW = logs
	a := e.adapter(false)
	ctx := ctxT(t, 60*time.Second)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	row, ok := e.fake.Agent(a.QueueLoc())
	if !ok {
		t.Fatal("agent not registered by its heartbeat")
	}
	_, forged, err := e.fake.Prepare(row, signed(t, "forged", []action.Operation{e.fileOp()}, mallory))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		a.HandleRaw(ctx, []byte("junk "+strings.Repeat("x", i)))
		a.HandleRaw(ctx, forged)
	}
	got := logs.lines()
	if len(got) > 5 {
		t.Fatalf("%d log lines for 200 junk messages, want at most 5:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, l := range got {
		if !strings.Contains(l, `msg="mig: command refused"`) {
			t.Errorf("line with another message: %s", l)
		}
	}
	// A minute later the heartbeat reports the rest.
	mu.Lock()
	clock = clock.Add(61 * time.Second)
	mu.Unlock()
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	got = logs.lines()
	if last := got[len(got)-1]; !strings.Contains(last, "suppressed_before=195") {
		t.Errorf("last line %q, want the 195 unlogged refusals counted", last)
	}
	if a.Pending() != 100 {
		t.Errorf("pending = %d, want the 100 refusals answered to the scheduler", a.Pending())
	}
}
