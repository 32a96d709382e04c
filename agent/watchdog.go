package agent

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"
)

// watchdog is the agent's own nanny: the heap is checked once a minute; above the limit it warns
// and returns memory to the OS, and after `strikes` checks in a row above it, it gives up so the
// service manager restarts a fresh process. Per-job limits belong to the job runner.
type watchdog struct {
	limit   uint64
	every   time.Duration
	strikes int
	read    func() uint64
	log     *slog.Logger
}

func newWatchdog(limit uint64, log *slog.Logger) *watchdog {
	return &watchdog{limit: limit, every: time.Minute, strikes: 3, read: heapBytes, log: log}
}

// heapBytes is the live heap. ReadMemStats stops the world for microseconds once a minute;
// runtime/metrics would avoid that but builds its description table at every start.
func heapBytes() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// run returns an error when the limit was exceeded for too long, nil when ctx ends.
func (w *watchdog) run(ctx context.Context) error {
	// The soft limit makes the GC work harder before the hard decision is taken.
	debug.SetMemoryLimit(int64(w.limit))
	t := time.NewTicker(w.every)
	defer t.Stop()
	over := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		h := w.read()
		if h <= w.limit {
			over = 0
			continue
		}
		over++
		w.log.Warn("memory watchdog: heap above the limit", "heap_bytes", h, "limit_bytes", w.limit, "strike", over, "of", w.strikes)
		debug.FreeOSMemory()
		if over >= w.strikes {
			return fmt.Errorf("memory watchdog: heap %d bytes above memory_limit %d bytes for %d checks; exiting so the service manager restarts the agent", h, w.limit, over)
		}
	}
}
