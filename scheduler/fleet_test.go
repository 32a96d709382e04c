package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// fleetServer is one management server shared by the whole fleet: it counts requests per
// minute and refuses every request during its outage (connection refused: the cheap failure).
type fleetServer struct {
	name     string
	interval time.Duration // the protocol's default interval
	t0       time.Time
	outFrom  time.Time
	outTo    time.Time

	mu       sync.Mutex
	perMin   map[int]int
	firstOK  []time.Time // per agent: first success at or after the recovery
	maxSilnc time.Duration
}

func (s *fleetServer) hit(agent int) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perMin[int(now.Sub(s.t0)/time.Minute)]++
	if !now.Before(s.outFrom) && now.Before(s.outTo) {
		return errors.New("connect: connection refused")
	}
	if !now.Before(s.outTo) && s.firstOK[agent].IsZero() {
		s.firstOK[agent] = now
	}
	return nil
}

type fleetAdapter struct {
	srv   *fleetServer
	agent int
}

func (a fleetAdapter) Cycle(context.Context) (protocols.Result, error) {
	return protocols.Result{}, a.srv.hit(a.agent)
}

// lockedRand is one agent's random source, shared by its server loops.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// fleetResult is one protocol's figures.
type fleetResult struct {
	name           string
	steadyPerMin   float64
	afterPerMin    int
	ratio          float64
	worstSilence   time.Duration // from the recovery to an agent's first success
	silentTooLong  int           // agents silent more than two intervals after the recovery
	neverRecovered int
}

// simulateFleet runs n agents' schedulers, each with the given protocols, in virtual time: the agents boot spread over an hour, run two hours, then every
// server is down for outage; figures compare the minute after the recovery with the hour
// before the outage.
// fleetProto is a protocol at its default interval.
type fleetProto struct {
	name     string
	interval time.Duration
}

var fleetProtos = []fleetProto{{"oco", time.Minute}, {"mig", 5 * time.Minute}, {"rdfm", 15 * time.Minute}, {"glpi", time.Hour}, {"jumpcloud", time.Hour}}

func simulateFleet(t *testing.T, n int, protos []fleetProto, outage time.Duration) []fleetResult {
	var results []fleetResult
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		outFrom := t0.Add(3 * time.Hour)
		outTo := outFrom.Add(outage)
		var servers []*fleetServer
		for _, p := range protos {
			servers = append(servers, &fleetServer{name: p.name, interval: p.interval, t0: t0, outFrom: outFrom, outTo: outTo,
				perMin: map[int]int{}, firstOK: make([]time.Time, n)})
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		boot := rand.New(rand.NewPCG(1, 2))
		for i := range n {
			lr := &lockedRand{r: rand.New(rand.NewPCG(uint64(i), 7))}
			var list []Server
			for _, s := range servers {
				list = append(list, Server{Name: s.name, Protocol: s.name, Interval: s.interval, Adapter: fleetAdapter{srv: s, agent: i}})
			}
			// The agent's defaults ([agent] splay, jitter, max_backoff).
			sch := New(Options{Rand: lr.Float64, Jitter: 0.1, Splay: 30 * time.Second, MaxBackoff: time.Hour})
			start := time.Duration(boot.Float64() * float64(time.Hour))
			wg.Go(func() {
				time.Sleep(start)
				sch.Run(ctx, list)
			})
		}
		time.Sleep(outTo.Sub(t0) + 3*time.Hour)
		cancel()
		wg.Wait()
		for _, s := range servers {
			steady := 0
			for m := 120; m < 180; m++ {
				steady += s.perMin[m]
			}
			r := fleetResult{name: s.name, steadyPerMin: float64(steady) / 60, afterPerMin: s.perMin[int(outTo.Sub(t0)/time.Minute)]}
			r.ratio = float64(r.afterPerMin) / r.steadyPerMin
			for _, ok := range s.firstOK {
				if ok.IsZero() {
					r.neverRecovered++
					continue
				}
				d := ok.Sub(outTo)
				r.worstSilence = max(r.worstSilence, d)
				if d > 2*s.interval {
					r.silentTooLong++
				}
			}
			results = append(results, r)
		}
	})
	return results
}

// TestFleetOutage: after a 30-minute outage of every server, the fleet neither stampedes
// (requests in the minute after the recovery at most 3 × the steady rate) nor stays away
// (every agent back within two of its intervals). With OMNIAGENT_FLEET_AGENTS set (the bench
// row: 2,000) that many agents run all five protocols in one process; by default, to keep the
// test light, 300 agents run the frequent pollers and 2,000 the hourly ones (fewer would leave
// a handful of requests a minute, too few to compare).
func TestFleetOutage(t *testing.T) {
	runs := []struct {
		n      int
		protos []fleetProto
	}{{300, fleetProtos[:3]}, {2000, fleetProtos[3:]}}
	if v, err := strconv.Atoi(os.Getenv("OMNIAGENT_FLEET_AGENTS")); err == nil && v > 0 {
		runs = runs[:1]
		runs[0].n, runs[0].protos = v, fleetProtos
	}
	for _, run := range runs {
		for _, r := range simulateFleet(t, run.n, run.protos, 30*time.Minute) {
			fmt.Printf("FLEET %s agents=%d steady_per_min=%.1f after_recovery_per_min=%d ratio=%.2f worst_silence=%s silent_over_2_intervals=%d never_back=%d\n",
				r.name, run.n, r.steadyPerMin, r.afterPerMin, r.ratio, r.worstSilence.Round(time.Second), r.silentTooLong, r.neverRecovered)
			if r.ratio > 3 {
				t.Errorf("%s: %d requests in the minute after the recovery, %.1f × the steady %.1f/min: a thundering herd", r.name, r.afterPerMin, r.ratio, r.steadyPerMin)
			}
			if r.silentTooLong > 0 || r.neverRecovered > 0 {
				t.Errorf("%s: %d agents silent more than two intervals after the recovery (worst %s), %d never back", r.name, r.silentTooLong, r.worstSilence, r.neverRecovered)
			}
		}
	}
}
