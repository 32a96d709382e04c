package rdfm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient"
)

// slowAuth answers the device auth only once released, and update checks with 204.
type slowAuth struct {
	auths   atomic.Int32
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *slowAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	resp := &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: http.NoBody, Request: r}
	if r.URL.Path == "/api/v1/auth/device" {
		s.auths.Add(1)
		s.once.Do(func() { close(s.arrived) })
		select {
		case <-s.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		resp.StatusCode = http.StatusOK
		resp.Body = io.NopCloser(bytes.NewReader([]byte(`{"expires":300,"token":"t1"}`)))
	}
	return resp, nil
}

// A slow auth request holds neither the adapter's lock nor a second auth request: whoever needs
// a token meanwhile waits for that one refresh and uses its token.
func TestSlowAuthHoldsNoAdapterLock(t *testing.T) {
	rt := &slowAuth{arrived: make(chan struct{}), release: make(chan struct{})}
	a := fuzzAdapter(t, NewOptions(), rt)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a.key, a.st.PublicKey = k, "pub"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cycleDone := make(chan error, 1)
	go func() { _, err := a.Cycle(ctx); cycleDone <- err }()
	<-rt.arrived
	// The old code held mu across the auth POST: a shell or the socket waited for it.
	locked := make(chan struct{})
	go func() { a.mu.Lock(); a.mu.Unlock(); close(locked) }()
	select {
	case <-locked:
	case <-time.After(2 * time.Second):
		t.Fatal("the adapter mutex is held while the auth request is in flight")
	}
	second := make(chan error, 1)
	go func() { second <- a.ensureToken(ctx, "") }()
	time.Sleep(100 * time.Millisecond)
	close(rt.release)
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if err := <-cycleDone; err != nil {
		t.Fatal(err)
	}
	if n := rt.auths.Load(); n != 1 {
		t.Fatalf("%d auth requests, want one refresh shared by both callers", n)
	}
	if tok := a.currentToken(); tok != "t1" {
		t.Fatalf("token %q", tok)
	}
}

// The management socket's set-up is bounded: auth answered, then a WebSocket upgrade the
// server never answers ends after the client's timeout with an error, not a hang.
func TestSocketSetupBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/auth/device" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"expires":300,"token":"t1"}`)
			return
		}
		<-r.Context().Done() // the upgrade: never a word
	}))
	defer srv.Close()
	c, err := httpclient.New(httpclient.Options{Server: "s", Proxy: "none", Timeout: time.Second, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a := fuzzAdapter(t, NewOptions(), nil)
	a.client, a.wsClient = c, c
	a.base, _ = url.Parse(srv.URL)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a.key, a.st.PublicKey = k, "pub"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = a.serveOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "management socket") || ctx.Err() != nil {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
}
