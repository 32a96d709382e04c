// Package progress shows long work while it happens: on a terminal, a bar per download (bytes,
// rate, ETA) and one live line per server; elsewhere (a service, a pipe), a log line at most
// every 10 % or 10 s of a download. It is written here rather than taken from a progress-bar
// library: the usual ones add megabytes to the binary.
package progress

import (
	"log/slog"
	"sync"
	"time"

	"github.com/omniagent/omniagent/jobs"
)

// Log reports download progress to a logger: a line at most every 10 % or every 10 s.
type Log struct {
	log *slog.Logger
	now func() time.Time
}

// NewLog logs through log; now is the clock (nil: time.Now).
func NewLog(log *slog.Logger, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{log: log, now: now}
}

// Start begins one download.
func (l *Log) Start(server, name string) jobs.ProgressTracker {
	t := l.now()
	return &logTracker{l: l, server: server, name: name, start: t, last: t, lastPct: 0}
}

type logTracker struct {
	l            *Log
	server, name string
	mu           sync.Mutex
	start, last  time.Time
	lastPct      float64
}

func (t *logTracker) Update(p jobs.Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.l.now()
	if p.Percent >= 100 {
		return // the end is logged by the job runner ("download verified") or the adapter
	}
	stepped := p.Percent >= 0 && p.Percent >= t.lastPct+10
	if !stepped && now.Sub(t.last) < 10*time.Second {
		return
	}
	t.last = now
	if p.Percent >= 0 {
		t.lastPct = float64(int(p.Percent/10) * 10)
	}
	attrs := []any{"server", t.server, "name", t.name, "bytes", p.Bytes}
	if p.Total > 0 {
		attrs = append(attrs, "total", p.Total, "percent", int(p.Percent))
	}
	if el := now.Sub(t.start); el > 0 {
		attrs = append(attrs, "rate", Bytes(int64(float64(p.Bytes)/el.Seconds()))+"/s")
	}
	t.l.log.Info("download progress", attrs...)
}

func (t *logTracker) Done(error) {}

// Bytes prints a size with a binary unit: 512 B, 1.5 KiB, 20.1 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return itoa(n) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if f < unit || u == "TiB" {
			return ftoa(f) + " " + u
		}
	}
	return ""
}
