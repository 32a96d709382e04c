package protocoltest

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	fixed := NewClock(start)
	fixed.Advance(time.Hour)
	if got := fixed.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("fixed clock = %v, want %v", got, start.Add(time.Hour))
	}
	var real Clock
	real.Advance(24 * time.Hour)
	if d := real.Now().Sub(time.Now()); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("shifted real clock is %v ahead, want about 24h", d)
	}
}
