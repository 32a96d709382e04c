package agent

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestWatchdog(t *testing.T) {
	tests := []struct {
		name    string
		heaps   []uint64 // one reading per minute; the last repeats
		wantErr bool
		wantAt  time.Duration
	}{
		{"under the limit", []uint64{10, 50, 99}, false, 0},
		{"spike then recovers", []uint64{150, 150, 90, 150, 150, 90}, false, 0},
		{"stays above", []uint64{50, 150, 160, 170}, true, 4 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var i atomic.Int64
				w := &watchdog{limit: 100, every: time.Minute, strikes: 3, log: slog.New(slog.DiscardHandler), read: func() uint64 {
					n := int(i.Add(1)) - 1
					if n >= len(tc.heaps) {
						n = len(tc.heaps) - 1
					}
					return tc.heaps[n]
				}}
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				start := time.Now()
				err := w.run(ctx, w.arm())
				if (err != nil) != tc.wantErr {
					t.Fatalf("err = %v", err)
				}
				if tc.wantErr && (time.Since(start) != tc.wantAt || !strings.Contains(err.Error(), "memory_limit")) {
					t.Fatalf("gave up after %v with %v", time.Since(start), err)
				}
			})
		})
	}
}

func TestHeapBytesSeesAnAllocation(t *testing.T) {
	read := newWatchdog(1, slog.New(slog.DiscardHandler)).read
	before := read()
	keep := make([]byte, 8<<20)
	after := read()
	if after < before+8<<20-(1<<20) {
		t.Fatalf("heap %d bytes before and %d after an 8 MiB allocation", before, after)
	}
	runtime.KeepAlive(keep)
}
