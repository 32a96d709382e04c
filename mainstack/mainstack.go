// Package mainstack grows the main goroutine's stack to 32 KB before the package
// initialisers run. Import it, blank, from package main.
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

// grow needs a 16 KB frame: the runtime doubles the stack until it fits, to 32 KB at once.
// Only the bytes indexed are written.
//
//go:noinline
func grow(n int) byte {
	var frame [16 << 10]byte
	frame[n%len(frame)] = byte(n)
	return frame[(n*7)%len(frame)]
}
