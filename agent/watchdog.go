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
	// The statistics live on the heap: 6 KB of them on the loop's stack would make the runtime
	// copy that goroutine's 2 KB stack at the first check.
	ms := new(runtime.MemStats)
	return &watchdog{limit: limit, every: time.Minute, strikes: 3, read: func() uint64 { return heapBytes(ms) }, log: log}
}

// heapBytes is the live heap, read into ms. ReadMemStats stops the world for microseconds
// once a minute; runtime/metrics would avoid that but builds its description table at every
// start.
func heapBytes(ms *runtime.MemStats) uint64 {
	runtime.ReadMemStats(ms)
	return ms.HeapAlloc
}

// arm sets the soft limit (the GC works harder before the hard decision is taken) and starts
// the ticker run waits on. It runs on the caller's goroutine, before run's own starts: both
// calls go deep into the runtime (the process's first ticker looks up a GODEBUG setting), and
// on a fresh goroutine's 2 KB stack they would make the runtime copy it, reading the stack
// maps of every frame, scattered over the binary.
func (w *watchdog) arm() *time.Ticker {
	debug.SetMemoryLimit(int64(w.limit))
	return time.NewTicker(w.every)
}

// run returns an error when the limit was exceeded for too long, nil when ctx ends. t comes
// from arm; run stops it.
func (w *watchdog) run(ctx context.Context, t *time.Ticker) error {
	defer t.Stop()
	over := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if h := w.read(); h > w.limit {
			over++
			if err := w.strike(h, over); err != nil {
				return err
			}
		} else {
			over = 0
		}
	}
}

// strike handles the over-th check in a row above the limit: it warns and returns memory to
// the OS, and gives up at w.strikes. Kept out of run, whose frame then stays small (no log or
// error arguments): run's goroutine waits on a 2 KB stack, which its first wait must not
// outgrow.
//
//go:noinline
func (w *watchdog) strike(heap uint64, over int) error {
	w.log.Warn("memory watchdog: heap above the limit", "heap_bytes", heap, "limit_bytes", w.limit, "strike", over, "of", w.strikes)
	debug.FreeOSMemory()
	if over >= w.strikes {
		return fmt.Errorf("memory watchdog: heap %d bytes above memory_limit %d bytes for %d checks; exiting so the service manager restarts the agent", heap, w.limit, over)
	}
	return nil
}
