package main

// growMainStack grows the main goroutine's stack to 32 KB in one step, while only main's
// own frames are on it. Left to grow by doubling, it is copied several times during start-up
// with deep call chains on it (flag and config parsing, reflection), and every copy reads the
// stack maps of every frame: about 20 pages of pclntab, which fault-around turns into some
// 320 KB of the binary kept resident by the idle daemon (measured with `perf record -e
// page-faults -d`; bench/rows/agent.sh shows it). The 16 KB frame is only touched where n
// points; the stack it leaves is reused by everything main calls.
//
//go:noinline
func growMainStack(n int) byte {
	var frame [16 << 10]byte
	frame[n%len(frame)] = byte(n)
	return frame[(n*7)%len(frame)]
}
