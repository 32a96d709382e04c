package mainstack

import (
	"runtime"
	"sync"
	"testing"
)

// stackInUse starts n goroutines that run body and then wait, and reports the stack memory
// they hold while waiting.
func stackInUse(n int, body func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	for range n {
		go func() {
			body()
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	runtime.ReadMemStats(&after)
	release.Done()
	if after.StackInuse < before.StackInuse {
		return 0
	}
	return after.StackInuse - before.StackInuse
}

// Grow leaves each calling goroutine with a stack of at least 32 KB (a bare goroutine's is a
// few KB), so the deep calls after it run without copying their frames.
func TestGrowGivesA32KBStack(t *testing.T) {
	const n = 64
	bare := stackInUse(n, func() {})
	grown := stackInUse(n, Grow)
	// Stacks are powers of two: more than 16 KB each means 32 KB (the runtime frees a few
	// other stacks meanwhile, so the sum is not exact).
	if grown < n*24<<10 {
		t.Errorf("%d goroutines after Grow hold %d KB of stack, want about %d KB", n, grown>>10, n*32)
	}
	if bare >= grown/2 {
		t.Errorf("bare goroutines hold %d KB of stack, grown ones %d KB: Grow made no difference", bare>>10, grown>>10)
	}
}
