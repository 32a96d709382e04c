package mig

import (
	"log/slog"
	"sync"
	"time"
)

// Folding of refused commands: a relay flooding the queue with junk (or an investigator
// hammering a refused action) must not flood the log. Each refused message gives one WARN
// with a fixed message and its details in attributes, so a log handler folding repeated
// warnings can fold them; and at most junkBurst lines go out per junkWindow, the rest counted
// and reported with the next line (or at the next heartbeat).
const (
	junkMsg    = "mig: command refused"
	junkBurst  = 5
	junkWindow = time.Minute
)

type junkWarner struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	start      time.Time // current window
	lines      int       // lines logged in the window
	suppressed int       // refusals not logged since the last line
}

// warn reports one refused message; reason is a short fixed phrase, args its details.
func (j *junkWarner) warn(reason string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	if now.Sub(j.start) >= junkWindow {
		j.start, j.lines = now, 0
	}
	if j.lines >= junkBurst {
		j.suppressed++
		return
	}
	j.lines++
	attrs := append([]any{"reason", reason}, args...)
	if j.suppressed > 0 {
		attrs = append(attrs, "suppressed_before", j.suppressed)
		j.suppressed = 0
	}
	j.log.Warn(junkMsg, attrs...)
}

// flush reports the refusals counted since the last line once their window is over, so a
// flood that stopped still shows its size.
func (j *junkWarner) flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.suppressed == 0 || j.now().Sub(j.start) < junkWindow {
		return
	}
	j.log.Warn(junkMsg, "reason", "more refused commands (not logged one by one)", "suppressed_before", j.suppressed)
	j.suppressed = 0
	j.start, j.lines = j.now(), 1
}
