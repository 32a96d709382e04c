// Package protocoltest holds the small pieces every adapter's end-to-end tests need: a clock the
// test moves, a logger that writes into the test's own log, a fast scratch folder, and an
// inventory that only some categories may be read from.
package protocoltest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// Clock is a test clock. NewClock starts it at a fixed time; the zero Clock follows the real
// time. Advance moves it forward in both cases.
type Clock struct {
	mu   sync.Mutex
	base time.Time
	off  time.Duration
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{base: t} }

// Now is the clock's time; pass the method value as a Deps.Now or a fake server's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base.IsZero() {
		return time.Now().Add(c.off)
	}
	return c.base.Add(c.off)
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.off = t, 0
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// FuzzDir is a scratch folder on tmpfs when there is one: fuzz iterations save state files, and
// an fsync on a real disk per iteration would leave the fuzzer little time to fuzz.
func FuzzDir(tb testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "omniagent-fuzz-"); err == nil {
			tb.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return tb.TempDir()
}

// Logger writes debug-level records into t's log, so they show only for failing tests.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// LogCapture keeps everything an adapter logs (debug included) for a test to search, and
// still shows it in t's log.
type LogCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   testing.TB
}

// NewLogCapture returns a capture for t.
func NewLogCapture(t testing.TB) *LogCapture { return &LogCapture{t: t} }

// Logger logs at debug level into the capture.
func (c *LogCapture) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *LogCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	c.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// String is everything logged so far.
func (c *LogCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// CheckNoSecrets fails t when a secret appears in the log, and when the log holds no
// exchange at all (the check would then prove nothing).
func (c *LogCapture) CheckNoSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	log := c.String()
	if !strings.Contains(log, `msg="http exchange"`) {
		t.Errorf("the debug log has no exchange line:\n%s", log)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("CheckNoSecrets: empty secret")
		}
		if strings.Contains(log, s) {
			t.Errorf("secret %q appears in the debug log", s)
		}
	}
}

// PartialInventory is the inventory of an adapter that must read only some categories: Partial
// answers with Inv when asked for exactly Want, in that order; anything else, a full
// collection included, fails the test.
type PartialInventory struct {
	T    testing.TB
	Inv  *inventory.Inventory
	Want []string
}

func (p PartialInventory) Inventory(context.Context) (*inventory.Inventory, error) {
	p.T.Error("full inventory collected; want only " + strings.Join(p.Want, ", "))
	return nil, errors.New("full inventory not expected")
}

func (p PartialInventory) Partial(_ context.Context, cats ...string) (*inventory.Inventory, error) {
	if !slices.Equal(cats, p.Want) {
		p.T.Errorf("inventory categories %v read, want %v", cats, p.Want)
	}
	return p.Inv, nil
}
