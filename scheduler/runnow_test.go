package scheduler

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// gateAdapter blocks each cycle until released and records the run-now request it saw.
type gateAdapter struct {
	mu      sync.Mutex
	seen    []protocols.Request
	asked   []bool
	release chan struct{}
}

func (g *gateAdapter) Cycle(ctx context.Context) (protocols.Result, error) {
	r, ok := protocols.RequestFrom(ctx)
	g.mu.Lock()
	g.seen = append(g.seen, r)
	g.asked = append(g.asked, ok)
	n := len(g.seen)
	g.mu.Unlock()
	select {
	case <-g.release:
	case <-ctx.Done():
		return protocols.Result{}, ctx.Err()
	}
	return protocols.Result{Summary: "cycle " + string(rune('0'+n)), Details: map[string]string{"queued_inventory": "none"}}, nil
}

func (g *gateAdapter) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

func TestRunNowServesAtOnceAndQueuesBehindARunningCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gateAdapter{release: make(chan struct{})}
		s := New(Options{Splay: time.Hour, Rand: half})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- s.Run(ctx, []Server{{Name: "glpi", Protocol: "glpi", Interval: 24 * time.Hour, Adapter: g}})
		}()
		synctest.Wait()
		if g.count() != 0 {
			t.Fatal("a cycle ran before the splay")
		}
		start := time.Now()
		first, err := s.RunNow("glpi", protocols.Request{Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if g.count() != 1 || time.Since(start) != 0 {
			t.Fatalf("cycles = %d after %v, want 1 right away", g.count(), time.Since(start))
		}
		if live := s.Live(); len(live) != 1 || !live[0].Running {
			t.Fatalf("live = %+v, want the cycle running", live)
		}
		// Two more requests while the first cycle runs: both wait for it, then share one cycle.
		second, _ := s.RunNow("glpi", protocols.Request{ForceUpdate: true, Source: "test"})
		third, _ := s.RunNow("glpi", protocols.Request{Categories: []string{"software"}, Source: "glpi"})
		synctest.Wait()
		if live := s.Live(); live[0].Pending != 2 {
			t.Fatalf("pending = %d, want 2", live[0].Pending)
		}
		select {
		case <-second:
			t.Fatal("the second request was answered while the first cycle still runs")
		default:
		}
		g.release <- struct{}{}
		if o := <-first; o.Err != nil || o.Result.Summary != "cycle 1" {
			t.Fatalf("first outcome = %+v", o)
		}
		synctest.Wait()
		if g.count() != 2 {
			t.Fatalf("cycles = %d, want the queued requests served by a second cycle", g.count())
		}
		g.release <- struct{}{}
		o2, o3 := <-second, <-third
		if o2.Result.Summary != "cycle 2" || o3.Result.Summary != "cycle 2" {
			t.Fatalf("outcomes %+v / %+v, want both from cycle 2", o2, o3)
		}
		g.mu.Lock()
		req, asked := g.seen[1], g.asked[1]
		g.mu.Unlock()
		// The full-cycle request wins over the partial one; force is kept.
		if !asked || !req.ForceUpdate || len(req.Categories) != 0 {
			t.Fatalf("merged request = %+v (asked %v)", req, asked)
		}
		// The schedule goes on: the next cycle is a normal one, a day later.
		synctest.Wait()
		if live := s.Live(); live[0].Running || live[0].NextRun.Sub(time.Now()) != 24*time.Hour || live[0].Details["queued_inventory"] != "none" {
			t.Fatalf("live after = %+v", live[0])
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestRunNowPartialRequestsMerge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gateAdapter{release: make(chan struct{}, 10)}
		s := New(Options{Splay: time.Hour, Rand: half})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "g", Interval: time.Hour, Adapter: g}}) }()
		synctest.Wait()
		// Queue two partial requests before the loop wakes: one cycle, both categories.
		s.mu.Lock()
		r := s.runners["g"]
		s.mu.Unlock()
		r.mu.Lock() // hold the runner so both land in the same batch
		w1 := &waiter{req: protocols.Request{Categories: []string{"software"}}, done: make(chan Outcome, 1)}
		w2 := &waiter{req: protocols.Request{Categories: []string{"os", "software"}}, done: make(chan Outcome, 1)}
		r.pending = append(r.pending, w1, w2)
		r.wake <- struct{}{}
		r.mu.Unlock()
		g.release <- struct{}{}
		<-w1.done
		<-w2.done
		g.mu.Lock()
		got := g.seen[0].Categories
		g.mu.Unlock()
		if !slices.Equal(got, []string{"software", "os"}) {
			t.Fatalf("categories = %v", got)
		}
		cancel()
		<-done
	})
}

func TestRunNowErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{Splay: time.Hour})
		if _, err := s.RunNow("x", protocols.Request{}); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("before Run: %v", err)
		}
		g := &gateAdapter{release: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx, []Server{{Name: "a", Interval: time.Hour, Adapter: g}}) }()
		synctest.Wait()
		if _, err := s.RunNow("b", protocols.Request{}); !errors.Is(err, ErrUnknownServer) {
			t.Fatalf("unknown: %v", err)
		}
		if n := s.Names(); !slices.Equal(n, []string{"a"}) {
			t.Fatalf("names = %v", n)
		}
		// A request still waiting when the agent stops is answered with an error, not dropped.
		ch, err := s.RunNow("a", protocols.Request{})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the cycle runs and blocks on the gate
		late, _ := s.RunNow("a", protocols.Request{})
		cancel()
		<-done
		if o := <-ch; !errors.Is(o.Err, context.Canceled) {
			t.Fatalf("running request: %v", o.Err)
		}
		if o := <-late; o.Err == nil {
			t.Fatal("a pending request got no error at stop")
		}
		if _, err := s.RunNow("a", protocols.Request{}); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("after Run: %v", err)
		}
	})
}

// TestSleepingServersHoldOneGoroutineEach: a server waiting for its next cycle is one parked
// goroutine, not a loop plus a watcher for run-now requests (a daemon idles most of its life).
func TestSleepingServersHoldOneGoroutineEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := runtime.NumGoroutine()
		s := New(Options{Splay: time.Hour, Rand: half})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		var servers []Server
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			servers = append(servers, Server{Name: n, Interval: time.Hour, Adapter: &gateAdapter{release: make(chan struct{}, 1)}})
		}
		go func() { done <- s.Run(ctx, servers) }()
		synctest.Wait()
		// The goroutine calling Run, and one loop per server.
		if got, want := runtime.NumGoroutine()-before, 1+len(servers); got != want {
			t.Fatalf("goroutines while every server sleeps = %d, want %d", got, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
