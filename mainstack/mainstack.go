// Package mainstack grows the main goroutine's stack to 32 KB before the package
// initialisers run (import it, blank, from package main), and other goroutines' stacks at
// their start (Grow).
//
// Left alone, that stack starts at 2 KB and doubles during start-up, each time with deep call
// chains on it (crypto self-tests, flag and config parsing, reflection); every copy reads the
// stack maps of every frame, scattered over pclntab, and fault-around keeps 64 KB of the binary
// resident around each page read. Growing it once, while only this package's frame is on it,
// kept 600 KB less of the binary resident in the idle daemon (bench/rows/agent.sh; found
// with `perf record -e page-faults -d`). The stack it leaves is then reused by everything the
// initialisers and main call.
//
// It is the one package of ours with an init, and the init allocates nothing. It imports
// nothing, so Go's initialisation order (packages sorted by import path, each as soon as its
// imports are done) runs it before almost every other package.
package mainstack

func init() { grow(1) }

// Grow gives the calling goroutine a 32 KB stack now, while only its caller's frames are on it.
// Workers that go deep (a collector, a server's cycle with TLS and JSON, a dial) call it first:
// each doubling of a 2 KB stack would otherwise copy every frame then on it, reading their stack
// maps all over pclntab. Measured on the idle daemon with five servers: 0.1–0.4 MiB less of the
// binary resident, and 0.4–0.7 MB less peak RSS for `omniagent inventory`. A stack the GC shrinks
// while its goroutine waits is grown again by the next call.
func Grow() { grow(2) }

// grow needs a 16 KB frame: the runtime doubles the stack until it fits, to 32 KB at once.
// Only the bytes indexed are written.
//
//go:noinline
func grow(n int) byte {
	var frame [16 << 10]byte
	frame[n%len(frame)] = byte(n)
	return frame[(n*7)%len(frame)]
}
