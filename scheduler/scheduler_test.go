package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/state"
)

// fakeAdapter records when it ran and answers from a script.
type fakeAdapter struct {
	mu     sync.Mutex
	calls  []time.Time
	answer func(n int) (protocols.Result, error)
}

func (f *fakeAdapter) Cycle(ctx context.Context) (protocols.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, time.Now())
	n := len(f.calls)
	f.mu.Unlock()
	return f.answer(n)
}

func (f *fakeAdapter) gaps(start time.Time) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	prev := start
	for _, c := range f.calls {
		out = append(out, c.Sub(prev))
		prev = c
	}
	return out
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func half() float64 { return 0.5 } // jitter factor 1: deterministic

func TestJitteredAndBackoff(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		j, r float64
		want time.Duration
	}{
		{time.Hour, 0.1, 0, 54 * time.Minute},
		{time.Hour, 0.1, 0.5, time.Hour},
		{time.Hour, 0.1, 1, 66 * time.Minute},
		{time.Hour, 0, 0.9, time.Hour},
	} {
		if got := Jittered(tc.d, tc.j, tc.r); got != tc.want {
			t.Errorf("Jittered(%v,%v,%v) = %v, want %v", tc.d, tc.j, tc.r, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, time.Minute}, {1, time.Minute}, {2, 2 * time.Minute}, {4, 8 * time.Minute}, {5, 10 * time.Minute}, {500, 10 * time.Minute}} {
		if got := Backoff(tc.n, time.Minute, 10*time.Minute); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestJitterStaysInBounds(t *testing.T) {
	s := New(Options{Jitter: 0.1})
	srv := Server{Interval: time.Hour}
	for range 1000 {
		d := s.nextDelay(srv, protocols.Result{}, nil, 0)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jittered delay %v outside ±10%% of 1h", d)
		}
	}
}

// TestServerGivenNextNeverLate: jitter on a delay the server gave (GLPI expiration) only
// moves the contact earlier, never past it; the configured interval keeps its ±jitter.
func TestServerGivenNextNeverLate(t *testing.T) {
	s := New(Options{Jitter: 0.1})
	srv := Server{Interval: time.Hour}
	for _, err := range []error{nil, errors.New("busy")} {
		for range 1000 {
			d := s.nextDelay(srv, protocols.Result{Next: 24 * time.Hour}, err, 1)
			if d > 24*time.Hour || d < 24*time.Hour*9/10 {
				t.Fatalf("server-given 24h (err %v) became %v: want within [21.6h, 24h]", err, d)
			}
		}
	}
}

func TestNextRunFromAdapterAndInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fakeAdapter{answer: func(n int) (protocols.Result, error) {
			if n == 2 {
				return protocols.Result{Next: 5 * time.Minute}, nil // server-given expiration
			}
			return protocols.Result{}, nil
		}}
		s := New(Options{Rand: half, Jitter: 0.1, Splay: 20 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "a", Interval: time.Hour, Adapter: a}}) }()
		time.Sleep(3 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// splay 10 s (half of 20 s), then the interval, then the server's 5 min made 5 %
		// earlier (jitter never makes it late), then the interval.
		want := []time.Duration{10 * time.Second, time.Hour, 5*time.Minute - 15*time.Second, time.Hour}
		if got := a.gaps(start); !equalDurations(got, want) {
			t.Fatalf("gaps = %v, want %v", got, want)
		}
	})
}

func TestBackoffOnErrorsThenReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fakeAdapter{answer: func(n int) (protocols.Result, error) {
			if n <= 5 {
				return protocols.Result{}, errors.New("server down")
			}
			return protocols.Result{}, nil
		}}
		s := New(Options{Rand: half, MinBackoff: time.Minute, MaxBackoff: 8 * time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		done := make(chan error)
		// A 4 min interval: the back-off starts at MinBackoff and stops at max_backoff (below
		// two intervals).
		go func() { done <- s.Run(ctx, []Server{{Name: "a", Interval: 4 * time.Minute, Adapter: a}}) }()
		time.Sleep(time.Minute + 2*time.Minute + 4*time.Minute + 8*time.Minute + 8*time.Minute + 4*time.Minute + time.Second)
		cancel()
		<-done
		want := []time.Duration{0, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute, 4 * time.Minute}
		if got := a.gaps(start); !equalDurations(got, want) {
			t.Fatalf("gaps = %v, want %v", got, want)
		}
	})
}

// TestHeartbeatServer: a heartbeat server (NoSplay, own MaxBackoff) runs its first cycle at
// start whatever the splay, and its back-off (from a quarter of its period) stops at its own
// cap, not the scheduler's hour.
func TestHeartbeatServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fakeAdapter{answer: func(n int) (protocols.Result, error) {
			if n <= 7 {
				return protocols.Result{}, errors.New("relay down")
			}
			return protocols.Result{}, nil
		}}
		s := New(Options{Rand: half, Splay: 30 * time.Second, MinBackoff: time.Minute, MaxBackoff: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		done := make(chan error)
		srv := Server{Name: "mig", Interval: 5 * time.Minute, MaxBackoff: 7 * time.Minute, NoSplay: true, Adapter: a}
		go func() { done <- s.Run(ctx, []Server{srv}) }()
		want := []time.Duration{0, 75 * time.Second, 150 * time.Second, 5 * time.Minute, 7 * time.Minute, 7 * time.Minute, 7 * time.Minute, 7 * time.Minute, 5 * time.Minute}
		var total time.Duration
		for _, d := range want {
			total += d
		}
		time.Sleep(total + time.Second)
		cancel()
		<-done
		if got := a.gaps(start); !equalDurations(got, want) {
			t.Fatalf("gaps = %v, want %v", got, want)
		}
	})
}

type memStore struct {
	mu sync.Mutex
	m  map[string]state.Status
}

func (m *memStore) SaveStatus(s state.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[s.Server] = s
	return nil
}

func (m *memStore) LoadStatus(n string) (state.Status, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[n]
	return s, ok, nil
}

func TestPanicIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := &fakeAdapter{answer: func(int) (protocols.Result, error) { panic("nil map in adapter") }}
		good := &fakeAdapter{answer: func(int) (protocols.Result, error) { return protocols.Result{Summary: "fine"}, nil }}
		st := &memStore{m: map[string]state.Status{}}
		s := New(Options{Rand: half, Store: st, MinBackoff: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- s.Run(ctx, []Server{{Name: "bad", Interval: 10 * time.Minute, Adapter: bad}, {Name: "good", Interval: 10 * time.Minute, Adapter: good}})
		}()
		time.Sleep(31 * time.Minute)
		cancel()
		<-done
		if n := len(good.calls); n != 4 {
			t.Errorf("good server ran %d times, want 4", n)
		}
		if len(bad.calls) < 4 {
			t.Errorf("bad server ran %d times: a panic must not stop its own loop either", len(bad.calls))
		}
		b, _, _ := st.LoadStatus("bad")
		g, _, _ := st.LoadStatus("good")
		if b.LastResult != "failed" || b.Failures < 3 || !strings.Contains(b.LastError, "panicked") {
			t.Errorf("bad status = %+v", b)
		}
		if g.LastResult != "ok" || g.LastContact.IsZero() || g.LastError != "" {
			t.Errorf("good status = %+v", g)
		}
	})
}

// slowAdapter checkpoints when cancelled, or ignores cancellation when stubborn.
type slowAdapter struct {
	stubborn    bool
	checkpoints int
	mu          sync.Mutex
}

func (s *slowAdapter) Cycle(ctx context.Context) (protocols.Result, error) {
	if s.stubborn {
		time.Sleep(time.Hour)
		return protocols.Result{}, nil
	}
	<-ctx.Done()
	s.mu.Lock()
	s.checkpoints++
	s.mu.Unlock()
	return protocols.Result{}, ctx.Err()
}

func TestCleanShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &slowAdapter{}
		s := New(Options{Rand: half})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "a", Interval: time.Minute, Adapter: a}}) }()
		time.Sleep(time.Second)
		cancel()
		start := time.Now()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if time.Since(start) != 0 || a.checkpoints != 1 {
			t.Fatalf("stop took %v, checkpoints %d", time.Since(start), a.checkpoints)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		a := &slowAdapter{stubborn: true}
		s := New(Options{Rand: half, StopTimeout: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "a", Interval: time.Minute, Adapter: a}}) }()
		time.Sleep(time.Second)
		cancel()
		start := time.Now()
		if err := <-done; err == nil {
			t.Fatal("a server that ignores cancellation must be reported")
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Fatalf("stop took %v, want the 10 s stop timeout", d)
		}
		time.Sleep(time.Hour) // let the stubborn cycle end inside the bubble
	})
}

type sessionAdapter struct {
	fakeAdapter
	mu     sync.Mutex
	starts []time.Time
}

func (s *sessionAdapter) Serve(ctx context.Context) error {
	s.mu.Lock()
	s.starts = append(s.starts, time.Now())
	s.mu.Unlock()
	return errors.New("connection closed by broker")
}

func TestSessionRestartsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &sessionAdapter{fakeAdapter: fakeAdapter{answer: func(int) (protocols.Result, error) { return protocols.Result{}, nil }}}
		s := New(Options{Rand: half, MaxBackoff: 4 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "mig", Interval: time.Hour, Adapter: a}}) }()
		time.Sleep(1*time.Second + 2*time.Second + 4*time.Second + 4*time.Second + 500*time.Millisecond)
		cancel()
		<-done
		var gaps []time.Duration
		prev := start
		for _, s := range a.starts {
			gaps = append(gaps, s.Sub(prev))
			prev = s
		}
		want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
		if !equalDurations(gaps, want) {
			t.Fatalf("session restarts at %v, want %v", gaps, want)
		}
	})
}

func TestRunOnce(t *testing.T) {
	ok := &fakeAdapter{answer: func(int) (protocols.Result, error) {
		return protocols.Result{Summary: "sent", Next: 2 * time.Hour}, nil
	}}
	bad := &fakeAdapter{answer: func(int) (protocols.Result, error) { return protocols.Result{}, errors.New("401 unauthorized") }}
	s := New(Options{Rand: half})
	out := s.RunOnce(context.Background(), []Server{{Name: "a", Protocol: "glpi", Interval: time.Hour, Adapter: ok}, {Name: "b", Protocol: "oco", Interval: time.Hour, Adapter: bad}})
	if len(out) != 2 || out[0].Err != nil || out[0].Result.Summary != "sent" || out[0].Next != 2*time.Hour {
		t.Fatalf("outcome a = %+v", out[0])
	}
	if out[1].Err == nil || out[1].Server != "b" || out[1].Protocol != "oco" || out[1].Next != 15*time.Minute { // a quarter of the interval
		t.Fatalf("outcome b = %+v", out[1])
	}
}

// stepClock is an injected clock whose Sleep returns at once, moving its time forward: the loop
// runs at full speed and the recorded sleeps are exactly the scheduler's decisions.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration, _ <-chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return true
}

func TestInjectedClockDecisions(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs := []float64{0.25, 0, 1, 0.5, 0.5, 0.5, 0.5}
	var ri int
	script := []error{nil, errors.New("503"), errors.New("503"), nil, nil}
	a := &fakeAdapter{answer: func(n int) (protocols.Result, error) {
		if n == len(script) {
			cancel()
		}
		return protocols.Result{}, script[n-1]
	}}
	st := &memStore{m: map[string]state.Status{}}
	s := New(Options{Clock: clock, Jitter: 0.1, Splay: 40 * time.Second, MinBackoff: time.Minute, Store: st, StopTimeout: time.Second,
		Rand: func() float64 { r := rs[ri]; ri++; return r }})
	if err := s.Run(ctx, []Server{{Name: "glpi", Interval: 10 * time.Minute, Adapter: a}}); err != nil {
		t.Fatal(err)
	}
	// splay 25% of 40 s; interval -10%; back-off a quarter of the interval +10%; twice that;
	// interval; (cancelled).
	want := []time.Duration{10 * time.Second, 9 * time.Minute, 165 * time.Second, 5 * time.Minute, 10 * time.Minute}
	if !equalDurations(clock.sleeps, want) {
		t.Fatalf("sleeps = %v, want %v", clock.sleeps, want)
	}
	g, _, _ := st.LoadStatus("glpi")
	wantNext := clock.now.Add(10 * time.Minute)
	if g.LastResult != "ok" || !g.NextRun.Equal(wantNext) || !g.LastContact.Equal(clock.now) {
		t.Fatalf("status = %+v, want next run %v", g, wantNext)
	}
}

// Idle fires once per burst: when two overlapping cycles end, only the last one's end counts.
func TestIdleAfterLastCycle(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	slow := &fakeAdapter{answer: func(int) (protocols.Result, error) {
		started <- struct{}{}
		<-release
		return protocols.Result{}, nil
	}}
	var mu sync.Mutex
	var idle []int
	var s *Scheduler
	s = New(Options{Rand: half, Idle: func() {
		s.mu.Lock()
		n := s.active
		s.mu.Unlock()
		mu.Lock()
		idle = append(idle, n)
		mu.Unlock()
	}})
	done := make(chan []Outcome)
	go func() {
		done <- s.RunOnce(context.Background(), []Server{{Name: "a", Interval: time.Hour, Adapter: slow}, {Name: "b", Interval: time.Hour, Adapter: slow}})
	}()
	<-started
	<-started
	close(release)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(idle) != 1 || idle[0] != 0 {
		t.Fatalf("Idle calls = %v, want exactly one with no cycle running", idle)
	}
}

// A cycle in progress is visible in the status (running since its start) and cleared when it
// ends.
func TestRunningSinceRecorded(t *testing.T) {
	st := &memStore{m: map[string]state.Status{}}
	s := New(Options{Rand: half, Store: st})
	inCycle := make(chan struct{})
	release := make(chan struct{})
	a := &fakeAdapter{answer: func(int) (protocols.Result, error) {
		close(inCycle)
		<-release
		return protocols.Result{}, nil
	}}
	done := make(chan []Outcome)
	before := time.Now()
	go func() {
		done <- s.RunOnce(context.Background(), []Server{{Name: "glpi", Interval: time.Hour, Adapter: a}})
	}()
	<-inCycle
	rec, _, _ := st.LoadStatus("glpi")
	if rec.RunningSince.Before(before.Add(-time.Second)) || rec.RunningSince.After(time.Now()) {
		t.Fatalf("running since %v while the cycle runs", rec.RunningSince)
	}
	close(release)
	<-done
	rec, _, _ = st.LoadStatus("glpi")
	if !rec.RunningSince.IsZero() || rec.LastResult != "ok" {
		t.Fatalf("after the cycle: %+v", rec)
	}
}

// The failure back-off follows the interval: from a quarter of it (MinBackoff at least, unless
// the interval is shorter) to two intervals with jitter (max_backoff at most).
func TestBackoffFollowsInterval(t *testing.T) {
	within := func(d time.Duration) time.Duration { return time.Duration(float64(d) / 1.1) }
	tests := []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{time.Minute, 1, time.Minute},
		{time.Minute, 10, within(2 * time.Minute)},
		{30 * time.Second, 1, 30 * time.Second},
		{time.Hour, 1, 15 * time.Minute},
		{time.Hour, 2, 30 * time.Minute},
		{time.Hour, 10, time.Hour}, // max_backoff
		{15 * time.Minute, 10, within(30 * time.Minute)},
	}
	for _, tc := range tests {
		s := New(Options{Rand: half, Jitter: 0.1})
		got := s.nextDelay(Server{Interval: tc.interval}, protocols.Result{}, errors.New("down"), tc.failures)
		if got != tc.want {
			t.Errorf("interval %s, %d failures: %s, want %s", tc.interval, tc.failures, got, tc.want)
		}
	}
}

// TestJobFailuresAreNotCycleFailures: a cycle whose exchanges worked but whose jobs failed is
// "ok, N jobs failed", keeps the normal interval (no back-off) and records the job error;
// while it runs, the status says since when.
func TestJobFailuresAreNotCycleFailures(t *testing.T) {
	store := &memStore{m: map[string]state.Status{}}
	var during state.Status
	jobs := &fakeAdapter{answer: func(int) (protocols.Result, error) {
		during, _, _ = store.LoadStatus("g")
		return protocols.Result{Summary: "deploy: 0 done, 2 failed"}, errors.Join(
			fmt.Errorf("job a: %w", protocols.JobFailure(errors.New("exit status 3"))),
			fmt.Errorf("job b: %w", protocols.JobFailure(errors.New("digest mismatch"))))
	}}
	counted := &fakeAdapter{answer: func(int) (protocols.Result, error) {
		return protocols.Result{Summary: "jobs: 0 succeeded, 1 failed", JobsFailed: 1}, nil
	}}
	s := New(Options{Rand: half, Store: store})
	out := s.RunOnce(context.Background(), []Server{{Name: "g", Protocol: "glpi", Interval: time.Hour, Adapter: jobs}, {Name: "o", Protocol: "oco", Interval: time.Hour, Adapter: counted}})
	g, o := out[0], out[1]
	if g.Err != nil || g.JobErr == nil || g.JobsFailed != 2 || g.ResultText() != "ok, 2 jobs failed" || g.Next != time.Hour {
		t.Errorf("outcome g = %+v (%s)", g, g.ResultText())
	}
	if !strings.Contains(g.Detail(), "deploy: 0 done, 2 failed (job a: exit status 3") {
		t.Errorf("detail = %q", g.Detail())
	}
	if o.Err != nil || o.ResultText() != "ok, 1 job failed" {
		t.Errorf("outcome o = %+v (%s)", o, o.ResultText())
	}
	if during.RunningSince.IsZero() {
		t.Error("no running_since recorded while the cycle ran")
	}
	st, _, _ := store.LoadStatus("g")
	if st.LastResult != "ok, 2 jobs failed" || st.JobsFailed != 2 || !strings.Contains(st.LastError, "digest mismatch") ||
		st.LastContact.IsZero() || !st.RunningSince.IsZero() || st.Failures != 0 || st.LastSummary != "deploy: 0 done, 2 failed" {
		t.Errorf("status = %+v", st)
	}
}
