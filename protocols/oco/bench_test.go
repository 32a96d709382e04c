package oco_test

import (
	"context"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
)

// BenchmarkHelloCycle is one idle cycle (signed hello, verified answer, no work) against the
// fake server over TLS: the steady-state cost of the agent between jobs.
func BenchmarkHelloCycle(b *testing.B) {
	e := newEnv(b, ocofake.Options{SelfRegistration: true})
	e.quiet = true
	a := e.adapter(nil)
	ctx := context.Background()
	if _, err := a.Cycle(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Cycle(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMapInventory maps a sample inventory to the update payload.
func BenchmarkMapInventory(b *testing.B) {
	inv := sampleInventory()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = oco.MapInventory(inv, nil, time.Time{})
	}
}
