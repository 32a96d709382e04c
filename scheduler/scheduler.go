// Package scheduler runs every configured server on its own: one goroutine per server, the next
// run from the adapter or the interval with jitter, a random splay at start, capped exponential
// back-off on errors, and panic isolation so one broken adapter never stalls the others.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/omniagent/omniagent/mainstack"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/state"
)

// Clock is the time source; tests inject a fake.
type Clock interface {
	Now() time.Time
	// Sleep waits d, until ctx ends or until wake receives (a nil wake never does); it reports
	// false when ctx ended first. One select instead of a watcher goroutine per sleeping server.
	Sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-wake:
		return ctx.Err() == nil
	}
}

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }

// StatusStore records per-server status; *state.Store satisfies it.
type StatusStore interface {
	SaveStatus(state.Status) error
	LoadStatus(name string) (state.Status, bool, error)
}

// Server is one scheduled server.
type Server struct {
	Name     string
	Protocol string
	Interval time.Duration
	Adapter  protocols.Adapter
	// MaxBackoff caps this server's back-off below Options.MaxBackoff (0: no own cap); a
	// heartbeat keeps it to a few of its periods.
	MaxBackoff time.Duration
	// NoSplay runs the first cycle at start: a heartbeat says "alive" at once.
	NoSplay bool
}

// Options tune the scheduler.
type Options struct {
	Clock       Clock
	Rand        func() float64 // in [0,1); nil = math/rand/v2
	Jitter      float64        // fraction, 0.1 = ±10%
	Splay       time.Duration  // maximum random delay before a server's first run
	MaxBackoff  time.Duration
	MinBackoff  time.Duration // first retry delay; default 1 min (or the interval if shorter; a quarter of a longer interval)
	StopTimeout time.Duration // how long Run waits for busy servers after ctx ends; default 10 s
	CycleLimit  time.Duration // upper bound of one cycle; default 30 min
	Store       StatusStore   // nil: status is not recorded
	Logger      *slog.Logger
	// OnCycle, when set, is told when a server's cycle starts (o is nil) and ends (the CLI's
	// live line per server).
	OnCycle func(server string, o *Outcome)
	// Idle is called when the last running cycle ends (no cycle of any server is running).
	// The agent uses it to hand freed memory back to the OS between bursts of work.
	Idle func()
}

// Scheduler runs servers.
type Scheduler struct {
	o      Options
	mu     sync.Mutex
	active int // cycles running
	// runners are the servers' live loops while Run runs (nil otherwise), by name; order keeps
	// the configuration order.
	runners map[string]*runner
	order   []string
}

// New returns a scheduler with defaults filled.
func New(o Options) *Scheduler {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Minute
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Second
	}
	if o.CycleLimit <= 0 {
		o.CycleLimit = 30 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{o: o}
}

// Outcome is the result of one cycle of one server.
type Outcome struct {
	Server   string
	Protocol string
	// Err is the cycle's error when an exchange with the server failed; nil when only jobs
	// failed (then JobErr holds their errors).
	Err    error
	JobErr error
	// JobsFailed counts the jobs that failed (Result.JobsFailed, else the JobFailure errors).
	JobsFailed int
	Result     protocols.Result
	Started    time.Time
	Duration   time.Duration
	Next       time.Duration // delay before the next cycle
}

// ResultText is the one-word result shown by --oneshot, the log and `omniagent status`:
// "ok", "ok, 1 job failed" or "failed".
func (o Outcome) ResultText() string {
	switch {
	case o.Err != nil:
		return "failed"
	case o.JobsFailed == 1:
		return "ok, 1 job failed"
	case o.JobsFailed > 1:
		return fmt.Sprintf("ok, %d jobs failed", o.JobsFailed)
	}
	return "ok"
}

// Detail is the summary, or the error of a failed cycle or of its failed jobs.
func (o Outcome) Detail() string {
	switch {
	case o.Err != nil:
		return o.Err.Error()
	case o.JobErr != nil && o.Result.Summary != "":
		return o.Result.Summary + " (" + o.JobErr.Error() + ")"
	case o.JobErr != nil:
		return o.JobErr.Error()
	}
	return o.Result.Summary
}

// Jittered spreads d by ±jitter using r in [0,1).
func Jittered(d time.Duration, jitter, r float64) time.Duration {
	if jitter <= 0 || d <= 0 {
		return d
	}
	f := 1 + jitter*(2*r-1)
	return time.Duration(float64(d) * f)
}

// jitteredEarly spreads a server-given delay d by up to jitter, only ever downwards: the
// server said "come back by then", so the contact may be early but never late.
func jitteredEarly(d time.Duration, jitter, r float64) time.Duration {
	if jitter <= 0 || d <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 - jitter*r))
}

// Backoff is the delay after the n-th consecutive failure (n >= 1): base doubling, capped.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	if base <= 0 {
		base = time.Second
	}
	exp := math.Pow(2, float64(n-1))
	d := float64(base) * exp
	if d > float64(max) || math.IsInf(d, 0) {
		return max
	}
	return time.Duration(d)
}

// ErrPanic marks a cycle that panicked.
var ErrPanic = errors.New("adapter panicked")

// cycle runs one adapter cycle, turning a panic into an error.
func (s *Scheduler) cycle(ctx context.Context, srv Server) (res protocols.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.o.Logger.Error("adapter panicked; counted as a failure of this server only", "server", srv.Name, "protocol", srv.Protocol, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, s.o.CycleLimit)
	defer cancel()
	mainstack.Grow()
	return srv.Adapter.Cycle(ctx)
}

// nextDelay computes the wait after a cycle.
func (s *Scheduler) nextDelay(srv Server, res protocols.Result, err error, failures int) time.Duration {
	var d time.Duration
	if err != nil {
		// Back-off from a quarter of the interval (MinBackoff, or the interval if shorter, at
		// least) up to two intervals (max_backoff at most), jitter included. A fleet measured
		// through a server outage (fleet_test.go): retries much more frequent than the interval
		// make an hourly poller's fleet stampede the server when it comes back; a back-off far
		// beyond the interval keeps a minutely poller away for half an hour after it is back.
		base, ceil := s.o.MinBackoff, s.o.MaxBackoff
		if srv.Interval > 0 {
			base = max(min(base, srv.Interval), srv.Interval/4)
			ceil = min(ceil, time.Duration(float64(2*srv.Interval)/(1+s.o.Jitter)))
		}
		if srv.MaxBackoff > 0 && srv.MaxBackoff < ceil {
			ceil = srv.MaxBackoff // a heartbeat protocol's cap, a few periods
		}
		d = Backoff(failures, base, max(ceil, base))
		if res.Next > d {
			return jitteredEarly(res.Next, s.o.Jitter, s.o.Rand())
		}
	} else {
		d = srv.Interval
		if res.Next > 0 {
			return jitteredEarly(res.Next, s.o.Jitter, s.o.Rand())
		}
	}
	return Jittered(d, s.o.Jitter, s.o.Rand())
}

// RunOnce runs one cycle of every server concurrently and returns the outcomes in input order.
func (s *Scheduler) RunOnce(ctx context.Context, servers []Server) []Outcome {
	out := make([]Outcome, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = s.runCycle(ctx, srv, 0)
		}()
	}
	wg.Wait()
	return out
}

func (s *Scheduler) runCycle(ctx context.Context, srv Server, failures int) Outcome {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
	start := s.o.Clock.Now()
	s.markRunning(srv, start)
	if s.o.OnCycle != nil {
		s.o.OnCycle(srv.Name, nil)
	}
	res, err := s.cycle(ctx, srv)
	o := Outcome{Server: srv.Name, Protocol: srv.Protocol, Err: err, Result: res, Started: start, Duration: s.o.Clock.Now().Sub(start)}
	n, jobsOnly := protocols.SplitJobFailures(err)
	if jobsOnly {
		// The server answered; only what it asked for failed: no back-off, not "failed".
		o.Err, o.JobErr, err = nil, err, nil
	}
	o.JobsFailed = res.JobsFailed
	if o.JobsFailed == 0 {
		o.JobsFailed = n
	}
	if err != nil {
		failures++
	} else {
		failures = 0
	}
	o.Next = s.nextDelay(srv, res, err, failures)
	s.record(srv, o, failures)
	if s.o.OnCycle != nil {
		s.o.OnCycle(srv.Name, &o)
	}
	// Idle comes after the record: what runs there (the agent's health confirmation of a new
	// binary) reads the status this cycle just wrote.
	s.mu.Lock()
	s.active--
	idle := s.active == 0
	s.mu.Unlock()
	if idle && s.o.Idle != nil {
		s.o.Idle()
	}
	return o
}

// markRunning records that a cycle of srv started, for `omniagent status`.
func (s *Scheduler) markRunning(srv Server, start time.Time) {
	if s.o.Store == nil {
		return
	}
	st, _, err := s.o.Store.LoadStatus(srv.Name)
	if err != nil {
		st = state.Status{}
	}
	st.Server, st.Protocol = srv.Name, srv.Protocol
	st.RunningSince = start.UTC()
	if err := s.o.Store.SaveStatus(st); err != nil {
		s.o.Logger.Warn("cannot record status", "server", srv.Name, "err", err)
	}
}

func (s *Scheduler) record(srv Server, o Outcome, failures int) {
	if s.o.Store == nil {
		return
	}
	st, _, err := s.o.Store.LoadStatus(srv.Name)
	if err != nil {
		st = state.Status{}
	}
	st.Server, st.Protocol = srv.Name, srv.Protocol
	st.LastRun = o.Started.UTC()
	st.NextRun = o.Started.Add(o.Duration + o.Next).UTC()
	st.Failures = failures
	if o.Result.Details != nil {
		st.Details = o.Result.Details
	}
	st.RunningSince = time.Time{}
	if r, ok := srv.Adapter.(protocols.StatusReporter); ok {
		as := r.Status()
		st.Schedule = map[string]time.Time{}
		for k, t := range as.Schedule {
			if !t.IsZero() {
				st.Schedule[k] = t.UTC()
			}
		}
		if as.Cycle != "" {
			st.Schedule[as.Cycle] = st.NextRun
		}
		st.Session = as.Session
	}
	st.LastResult, st.LastSummary, st.JobsFailed = o.ResultText(), o.Result.Summary, o.JobsFailed
	switch {
	case o.Err != nil:
		st.LastError = o.Err.Error()
	case o.JobErr != nil:
		st.LastError = o.JobErr.Error()
		st.LastContact = st.LastRun
	default:
		st.LastError = ""
		st.LastContact = st.LastRun
	}
	if err := s.o.Store.SaveStatus(st); err != nil {
		s.o.Logger.Warn("cannot record status", "server", srv.Name, "err", err)
	}
}

// Run runs every server until ctx ends, then waits at most StopTimeout for cycles in flight.
func (s *Scheduler) Run(ctx context.Context, servers []Server) error {
	runners := make(map[string]*runner, len(servers))
	order := make([]string, 0, len(servers))
	for _, srv := range servers {
		runners[srv.Name] = newRunner(srv)
		order = append(order, srv.Name)
	}
	s.mu.Lock()
	s.runners, s.order = runners, order
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.runners, s.order = nil, nil
		for _, r := range runners {
			r.abandon(fmt.Errorf("%w: the agent is stopping", ErrNotRunning))
		}
		s.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for _, srv := range servers {
		r := runners[srv.Name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, r)
		}()
		if sess, ok := srv.Adapter.(protocols.Session); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(ctx, r, sess)
			}()
		}
	}
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(s.o.StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("scheduler: servers still busy %s after stop", s.o.StopTimeout)
	}
}

func (s *Scheduler) loop(ctx context.Context, r *runner) {
	srv := r.srv
	log := s.o.Logger.With("server", srv.Name, "protocol", srv.Protocol)
	wait := time.Duration(float64(s.o.Splay) * s.o.Rand())
	if srv.NoSplay {
		wait = 0
	}
	failures := 0
	for {
		r.mu.Lock()
		r.next = s.o.Clock.Now().Add(wait)
		r.mu.Unlock()
		if !s.sleep(ctx, r, wait) {
			return
		}
		waiters, req := r.take()
		cctx := ctx
		if len(waiters) > 0 {
			cctx = protocols.WithRequest(ctx, req)
			log.Info("running now", "asked_by", req.Source, "requests", len(waiters), "force_update", req.ForceUpdate, "categories", req.Categories)
		}
		r.setRunning(true, s.o.Clock.Now())
		o := s.runCycle(cctx, srv, failures)
		r.setRunning(false, time.Time{})
		if o.Result.Details != nil {
			r.mu.Lock()
			r.details = o.Result.Details
			r.mu.Unlock()
		}
		for _, w := range waiters {
			w.done <- o
		}
		if o.Err != nil {
			failures++
			if ctx.Err() != nil {
				return
			}
			log.Warn("cycle failed", "err", o.Err, "failures", failures, "retry_in", o.Next.Round(time.Second))
		} else {
			failures = 0
			if o.JobErr != nil {
				log.Warn("cycle done; jobs failed", "result", o.ResultText(), "err", o.JobErr)
			}
			log.Info("cycle done", "result", o.ResultText(), "summary", o.Result.Summary, "took", o.Duration.Round(time.Millisecond), "next_in", o.Next.Round(time.Second))
		}
		wait = o.Next
	}
}

// serve keeps a session adapter connected, restarting it with back-off when it returns.
func (s *Scheduler) serve(ctx context.Context, r *runner, sess protocols.Session) {
	srv := r.srv
	log := s.o.Logger.With("server", srv.Name, "protocol", srv.Protocol)
	failures := 0
	for ctx.Err() == nil {
		start := s.o.Clock.Now()
		r.mu.Lock()
		r.session, r.sessionFailures = "serving", failures
		r.mu.Unlock()
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					log.Error("session panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = fmt.Errorf("%w: %v", ErrPanic, p)
				}
			}()
			mainstack.Grow()
			return sess.Serve(ctx)
		}()
		if ctx.Err() != nil {
			return
		}
		if s.o.Clock.Now().Sub(start) > 5*time.Minute {
			failures = 0 // it ran a good while: start the back-off afresh
		}
		failures++
		r.mu.Lock()
		r.session, r.sessionFailures = "reconnecting", failures
		r.mu.Unlock()
		d := Jittered(Backoff(failures, time.Second, s.o.MaxBackoff), s.o.Jitter, s.o.Rand())
		log.Warn("session ended; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		if !s.o.Clock.Sleep(ctx, d, nil) {
			return
		}
	}
}
