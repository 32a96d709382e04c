package glpi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/scheduler"
)

// freePort finds a loopback port nobody listens on (the listener must know its port before the
// first CONTACT advertises it).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// daemon runs the adapter under the real scheduler, as `omniagent run` does, with the listener
// on a loopback port. It returns the scheduler, the listener's base URL and the deviceid.
func daemon(t *testing.T, e *testEnv, trust []string) (*scheduler.Scheduler, string, string) {
	t.Helper()
	port := freePort(t)
	var sched *scheduler.Scheduler
	ad, err := e.buildWith(func(_ *config.Server, o *glpi.Options) {
		o.Listen = fmt.Sprintf("127.0.0.1:%d", port)
		o.Trust = trust
	}, protocols.Options{}, func(r protocols.Request) error {
		_, err := sched.RunNow("glpi-test", r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ad.(protocols.Session); !ok {
		t.Fatal("a GLPI server with listen set has no session to run the listener")
	}
	// A day between cycles and an hour of splay: only a request makes a cycle run in the test.
	sched = scheduler.New(scheduler.Options{Splay: time.Hour, Logger: protocoltest.Logger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- sched.Run(ctx, []scheduler.Server{{Name: "glpi-test", Protocol: "glpi", Interval: 24 * time.Hour, Adapter: ad}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(base + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sched, base, ad.(*glpi.Listening).DeviceID()
}

// canBind127x2 tells whether this host routes 127.0.0.2 (Linux does; macOS needs an alias).
func canBind127x2() bool {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// TestRequestInventoryEndToEnd drives GLPI's buttons against the agent's listener: the fake
// server calls the port the agent advertised in CONTACT; an untrusted caller gets 403 and
// nothing runs; the server's own address makes CONTACT and INVENTORY arrive within 2 s.
func TestRequestInventoryEndToEnd(t *testing.T) {
	if !canBind127x2() {
		t.Skip("127.0.0.2 is not usable on this host (needed to play an untrusted caller)")
	}
	e := newEnv(t)
	sched, _, dev := daemon(t, e, nil)

	// First contact (as at the daemon's start): the port is advertised and stored by GLPI.
	ch, err := sched.RunNow("glpi-test", protocols.Request{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if o := <-ch; o.Err != nil {
		t.Fatalf("first cycle: %v", o.Err)
	}
	var contacts, invs int
	var advertised any
	e.fake.Get(func(s *glpifake.Server) {
		contacts, invs = len(s.Contacts), len(s.Inventories)
		advertised = s.Contacts[len(s.Contacts)-1]["httpd-port"]
	})
	if advertised == nil || e.fake.AgentPort(dev) == glpifake.DefaultAgentPort {
		t.Fatalf("CONTACT did not advertise the listener's port (httpd-port = %v)", advertised)
	}
	call := glpifake.AgentCall{Addresses: []string{"127.0.0.1"}}
	if got := e.fake.RequestStatus(context.Background(), dev, call); got != "waiting" {
		t.Fatalf("Agent status = %q, want waiting", got)
	}

	// An untrusted host (not the server's address, not in trust): 403, nothing runs.
	untrusted := call
	untrusted.From = "127.0.0.2"
	// GLPI goes on with https after the http refusal, and shows the last failure: "Unknown".
	if got := e.fake.RequestInventory(context.Background(), dev, untrusted); got != "Unknown" {
		t.Fatalf("untrusted Request inventory = %q, want Unknown", got)
	}
	if at := e.fake.AgentAttempts(); len(at) < 2 || !strings.HasPrefix(at[len(at)-2].URL, "http://") || at[len(at)-2].Code != http.StatusForbidden {
		t.Fatalf("untrusted /now attempts %+v, want 403 over http", at)
	}
	time.Sleep(300 * time.Millisecond)
	if l := sched.Live(); l[0].Running || l[0].Pending != 0 {
		t.Fatalf("a refused request queued a cycle: %+v", l[0])
	}
	e.fake.Get(func(s *glpifake.Server) {
		if len(s.Contacts) != contacts || len(s.Inventories) != invs {
			t.Fatalf("a refused request reached the server: %d contacts, %d inventories", len(s.Contacts), len(s.Inventories))
		}
	})

	// GLPI itself (the server URL's address): CONTACT and INVENTORY within 2 s.
	start := time.Now()
	if got := e.fake.RequestInventory(context.Background(), dev, call); !strings.HasPrefix(got, "Requested at ") {
		t.Fatalf("Request inventory = %q", got)
	}
	waitFor(t, start, 2*time.Second, func() bool {
		ok := false
		e.fake.Get(func(s *glpifake.Server) { ok = len(s.Contacts) > contacts && len(s.Inventories) > invs })
		return ok
	})
	t.Logf("CONTACT and INVENTORY reached the server %v after /now", time.Since(start).Round(time.Millisecond))

	// A partial inventory of one category.
	e.fake.Get(func(s *glpifake.Server) { invs = len(s.Inventories) })
	start = time.Now()
	if _, _, err := e.fake.RequestAgent(context.Background(), dev, "now?partial=yes&category=software", call); err != nil {
		t.Fatal(err)
	}
	waitFor(t, start, 2*time.Second, func() bool {
		ok := false
		e.fake.Get(func(s *glpifake.Server) { ok = len(s.Inventories) > invs })
		return ok
	})
	e.fake.Get(func(s *glpifake.Server) {
		got := s.Inventories[len(s.Inventories)-1]
		if !got.Partial || got.Content["softwares"] == nil || got.Content["cpus"] != nil || got.Content["hardware"] == nil {
			keys := make([]string, 0, len(got.Content))
			for k := range got.Content {
				keys = append(keys, k)
			}
			t.Fatalf("partial inventory: partial=%v sections %v, want softwares with the identifying sections only", got.Partial, keys)
		}
	})
}

func waitFor(t *testing.T, start time.Time, limit time.Duration, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("not done within %v", limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListenerAnswers checks each path and method as glpi-agent answers them.
func TestListenerAnswers(t *testing.T) {
	e := newEnv(t)
	_, base, _ := daemon(t, e, []string{"192.0.2.0/24"})
	origin := strings.TrimSuffix(e.fake.URL, "/")
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		code                     int
		ct, want                 string
		wantHdr                  map[string]string
	}{
		{name: "status", method: "GET", path: "/status", code: 200, ct: "text/plain", want: "status: waiting"},
		{name: "status by POST", method: "POST", path: "/status", code: 400},
		{name: "root", method: "GET", path: "/", code: 400},
		{name: "deploy p2p not served", method: "GET", path: "/deploy/getFile/a/ab/abc", code: 400},
		{name: "other path", method: "GET", path: "/now2", code: 400},
		{name: "body refused", method: "POST", path: "/now", body: "x", code: 413},
		{name: "now from the server address", method: "GET", path: "/now", code: 200, ct: "text/html"},
		{name: "now with a sub path", method: "GET", path: "/now/x", code: 200},
		{name: "unknown category", method: "GET", path: "/now?partial=yes&category=nope", code: 400},
		{name: "CORS preflight", method: "OPTIONS", path: "/now", hdr: map[string]string{"Access-Control-Request-Method": "GET", "Origin": origin},
			code: 204, wantHdr: map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Allow-Origin": origin}},
		{name: "CORS preflight with headers", method: "OPTIONS", path: "/now", hdr: map[string]string{"Access-Control-Request-Method": "GET", "Origin": origin, "Access-Control-Request-Headers": "x-a"},
			code: 204, wantHdr: map[string]string{"Access-Control-Allow-Headers": "*"}},
		{name: "CORS preflight for POST", method: "OPTIONS", path: "/now", hdr: map[string]string{"Access-Control-Request-Method": "POST"}, code: 403},
		{name: "CORS from another origin", method: "GET", path: "/now", hdr: map[string]string{"Origin": "http://evil.example"}, code: 403, want: "Access denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.code, body)
			}
			if tc.ct != "" && resp.Header.Get("Content-Type") != tc.ct {
				t.Fatalf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ct)
			}
			if !strings.Contains(string(body), tc.want) {
				t.Fatalf("body %q, want %q", body, tc.want)
			}
			for k, v := range tc.wantHdr {
				if resp.Header.Get(k) != v {
					t.Fatalf("%s = %q, want %q", k, resp.Header.Get(k), v)
				}
			}
		})
	}
	t.Run("rate limit", func(t *testing.T) {
		got429 := false
		for i := 0; i < 40 && !got429; i++ {
			resp, err := http.Get(base + "/status")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got429 = resp.StatusCode == http.StatusTooManyRequests
		}
		if !got429 {
			t.Fatal("40 calls in a burst were all served")
		}
	})
}

func TestListenOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		listen string
		trust  []string
		ok     bool
	}{
		{"0.0.0.0:62354", []string{"10.0.0.0/8", "192.0.2.7", "::1"}, true},
		{"[::]:62354", nil, true},
		{":62354", nil, true},
		{"", nil, true},
		{"62354", nil, false},
		{"host.example:62354", nil, false},
		{"0.0.0.0:70000", nil, false},
		{"0.0.0.0:62354", []string{"10.0.0.0/33"}, false},
		{"0.0.0.0:62354", []string{"glpi.example"}, false},
	} {
		o := glpi.NewOptions()
		o.Listen, o.Trust = tc.listen, tc.trust
		if err := o.Validate(); (err == nil) != tc.ok {
			t.Errorf("listen %q trust %v: err = %v, want ok %v", tc.listen, tc.trust, err, tc.ok)
		}
	}
}

// TestTrustList: a caller in trust may ask for an inventory though it is not the server; a
// server URL given by host name is resolved to find its addresses.
func TestTrustList(t *testing.T) {
	if !canBind127x2() {
		t.Skip("127.0.0.2 is not usable on this host")
	}
	e := newEnv(t)
	sched, _, dev := daemon(t, e, []string{"127.0.0.2/32"})
	ch, _ := sched.RunNow("glpi-test", protocols.Request{})
	<-ch
	var invs int
	e.fake.Get(func(s *glpifake.Server) { invs = len(s.Inventories) })
	start := time.Now()
	if got := e.fake.RequestInventory(context.Background(), dev, glpifake.AgentCall{Addresses: []string{"127.0.0.1"}, From: "127.0.0.2"}); !strings.HasPrefix(got, "Requested at") {
		t.Fatalf("trusted range: %q", got)
	}
	waitFor(t, start, 2*time.Second, func() bool {
		ok := false
		e.fake.Get(func(s *glpifake.Server) { ok = len(s.Inventories) > invs })
		return ok
	})

	// Server URL by name: "localhost" resolves to 127.0.0.1 (and ::1), never to 127.0.0.2.
	e2 := newEnv(t)
	e2.fake.URL = strings.Replace(e2.fake.URL, "127.0.0.1", "localhost", 1)
	_, base, _ := daemon(t, e2, nil)
	for _, tc := range []struct {
		from string
		code int
	}{{"127.0.0.1", 200}, {"127.0.0.2", 403}} {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.from)}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		resp, err := c.Get(base + "/now")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("from %s with the server named localhost: %d, want %d", tc.from, resp.StatusCode, tc.code)
		}
	}
}

// TestStatusWhileRunning: /status says a task runs while a cycle is in progress.
func TestStatusWhileRunning(t *testing.T) {
	e := newEnv(t)
	hold := make(chan struct{})
	e.inv.mu.Lock()
	e.inv.hold = hold
	e.inv.mu.Unlock()
	sched, base, _ := daemon(t, e, nil)
	ch, err := sched.RunNow("glpi-test", protocols.Request{})
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		resp, err := http.Get(base + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor(t, time.Now(), 5*time.Second, func() bool { return status() == "status: running task inventory" })
	close(hold)
	<-ch
	if got := status(); got != "status: waiting" {
		t.Fatalf("after the cycle: %q", got)
	}
}
