package agent

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFoldRepeatedWarnings: identical warnings within a minute become one line plus one
// `repeated=N` line; different warnings, other servers and info lines are never folded.
func TestFoldRepeatedWarnings(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := slog.New(NewFoldHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Minute, clock))
	a := log.With("server", "a")
	for range 5 {
		a.Warn("cycle failed", "err", "connection refused")
		log.With("server", "b").Warn("cycle failed", "err", "connection refused")
		a.Info("retrying")
		now = now.Add(5 * time.Second)
	}
	a.Warn("cycle failed", "err", "timeout") // another error: its own line
	for i := range 3 {                       // the same problem with a growing back-off: folded
		a.Warn("session ended; reconnecting", "err", "EOF", "failures", i+1, "in", time.Duration(i+1)*time.Second)
	}
	now = now.Add(time.Minute)
	a.Info("cycle done")
	a.Warn("cycle failed", "err", "connection refused") // a new window: shown again
	out := buf.String()
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(out, -1)) }
	if n := count(`server=a err="connection refused"\n`); n != 2 {
		t.Errorf("warning of a shown %d times, want 2 (first, new window):\n%s", n, out)
	}
	if n := count(`server=a err="connection refused" repeated=4 within=1m0s`); n != 1 {
		t.Errorf("no single repeated=4 line for a:\n%s", out)
	}
	if n := count(`server=b err="connection refused" repeated=4`); n != 1 {
		t.Errorf("no repeated=4 line for b:\n%s", out)
	}
	if n := count(`msg=retrying`); n != 5 {
		t.Errorf("info lines folded: %d\n%s", n, out)
	}
	if n := count(`session ended; reconnecting" server=a err=EOF failures=\d in=\S+\n`); n != 1 {
		t.Errorf("repeats differing only in numbers shown %d times, want 1:\n%s", n, out)
	}
	if n := count(`session ended; reconnecting" server=a err=EOF failures=1 in=1s repeated=2`); n != 1 {
		t.Errorf("no repeated=2 line for the reconnects:\n%s", out)
	}
	if !strings.Contains(out, `err=timeout`) {
		t.Errorf("a different warning was folded:\n%s", out)
	}
	// The count comes before the line that brought it out.
	if strings.Index(out, "repeated=4") > strings.Index(out, "msg=\"cycle done\"") {
		t.Errorf("count after the next line:\n%s", out)
	}
}
