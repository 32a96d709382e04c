package mig_test

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// flakyRelay is a TCP relay in front of the broker that, while cutting, kills a connection as
// soon as the agent publishes a result on it: the relay "refuses" the publish for reasons
// that have nothing to do with the result (a broker restart, a flapping link).
type flakyRelay struct {
	addr    string
	cutting atomic.Bool
	cuts    atomic.Int32
}

func newFlakyRelay(t *testing.T, broker string) *flakyRelay {
	t.Helper()
	u, err := url.Parse(broker)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyRelay{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	marker := []byte("mig.agt.results")
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { // broker → agent
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				c.Close()
				up.Close()
			}()
			go func() { // agent → broker, cut on a result while cutting
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if f.cutting.Load() && bytes.Contains(buf[:n], marker) {
							f.cuts.Add(1)
							break
						}
						if _, werr := up.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				c.Close()
				up.Close()
			}()
		}
	}()
	return f
}

// url is the broker URL through the relay.
func (f *flakyRelay) url(t *testing.T, broker string) string {
	u, err := url.Parse(broker)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = f.addr
	return u.String()
}

// TestResultSurvivesRelayRefusals: publishes failing for reasons that are not the result's
// (here the connection dies at each publish, more often than maxAttempts) keep the result;
// once the relay recovers it reaches the scheduler.
func TestResultSurvivesRelayRefusals(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	relay := newFlakyRelay(t, broker)
	e.opts.Relay = relay.url(t, broker)
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(false)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	row, _ := e.fake.Agent(ql)
	id, body, err := e.fake.Prepare(row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	a.HandleRaw(ctx, body)
	relay.cutting.Store(true)
	serve(t, ctx, a)
	waitFor(t, "the relay to cut 8 publishes", 30*time.Second, func() bool { return relay.cuts.Load() >= 8 })
	if a.Pending() != 1 {
		t.Fatalf("pending = %d after %d lost publishes, want the result kept", a.Pending(), relay.cuts.Load())
	}
	relay.cutting.Store(false)
	v, err := e.fake.WaitResult(ctxT(t, 20*time.Second), id)
	if err != nil {
		t.Fatalf("result never reached the scheduler after the relay recovered: %v", err)
	}
	checkEnvelope(t, v, ql)
	waitFor(t, "the outbox to empty", 5*time.Second, func() bool { return a.Pending() == 0 })
}
