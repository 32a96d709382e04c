package rdfm_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient/proxytest"
)

// syncBuffer is a log sink the test reads while the adapter writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestManagementSocketThroughSquid: an http:// RDFM server behind a real forward proxy. The
// update API goes in absolute form, the management socket through a CONNECT tunnel (in
// absolute form the proxy would refuse the upgrade). With a wrong proxy password the socket's
// repeated failure is logged at WARN with a hint, without the password.
func TestManagementSocketThroughSquid(t *testing.T) {
	sq := proxytest.Start(t)
	e := newEnv(t)
	target := proxytest.Target(e.fake.URL)
	e.url = "http://" + target
	e.proxy = sq.URL(proxytest.User, proxytest.Password)
	// While waiting for acceptance the agent asks once per retry interval: its clock moves
	// past that interval once the administrator accepted the device.
	var clockMu sync.Mutex
	clock := time.Now()
	e.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	a := e.adapter(false)
	ctx, cancel := context.WithCancel(t.Context())
	if res, err := a.Cycle(ctx); err != nil || !strings.Contains(res.Details["registration"], "waiting for acceptance") {
		t.Fatalf("first cycle through the proxy: %+v %v", res, err)
	}
	e.accept()
	clockMu.Lock()
	clock = clock.Add(2 * time.Minute)
	clockMu.Unlock()
	if res, err := a.Cycle(ctx); err != nil || res.Details["registration"] != "accepted" {
		t.Fatalf("accepted cycle through the proxy: %+v %v", res, err)
	}
	done := make(chan struct{})
	go func() { a.Serve(ctx); close(done) }()
	next(t, e.fake, "capability_report")
	cancel()
	<-done
	sq.WaitLog(t, "POST "+e.url+"/api/v1/auth", "CONNECT "+target)

	const wrong = "Wr0ngPassw0rd"
	logs := &syncBuffer{}
	e.logw = logs
	e.proxy = sq.URL(proxytest.User, wrong)
	a = e.adapter(false)
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done = make(chan struct{})
	go func() { a.Serve(ctx); close(done) }()
	for !strings.Contains(logs.String(), "level=WARN") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	out := logs.String()
	redacted := "http://" + proxytest.User + "@" + sq.Addr
	for _, want := range []string{"level=WARN msg=\"rdfm: management socket keeps failing; reconnecting\"", "proxy " + redacted + " refused", "407 Proxy Authentication Required", "hint=\"the forward proxy refuses"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(out, wrong) || t.Failed() {
		t.Fatalf("logs:\n%s", out)
	}
}
