package rdfm_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/rdfm"
)

// BenchmarkIdleCycle: one update check with a valid token (no update) against the fake.
func BenchmarkIdleCycle(b *testing.B) {
	e := newEnvTB(b)
	a := e.adapter(false)
	ctx := context.Background()
	e.register()
	if _, err := a.Cycle(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Cycle(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActionRoundTrip: action_exec → control → process run → result over a loopback socket.
func BenchmarkActionRoundTrip(b *testing.B) {
	if runtime.GOOS == "windows" {
		b.Skip("uses /bin/sh")
	}
	e := newEnvTB(b)
	e.exec = true
	e.opts.Actions = []rdfm.Action{{ID: "echo", Command: []string{"/bin/echo", "hi"}, Timeout: config.Duration(10 * time.Second)}}
	_, ctx, _ := e.serving()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.fake.RunAction(ctx, "echo"); err != nil {
			b.Fatal(err)
		}
		nextTB(b, e, "action_exec_result")
	}
}
