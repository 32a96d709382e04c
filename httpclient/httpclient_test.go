package httpclient

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient/hostile"
)

func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSVerificationAndCustomCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("User-Agent")+" "+r.Proto)
	}))
	defer srv.Close()
	noEnv := func(string) string { return "" }

	c, err := New(Options{Server: "s", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(srv.URL); err == nil {
		t.Fatal("an unknown CA was accepted: verification must be on by default")
	}

	c, err = New(Options{Server: "s", CAFile: writeCA(t, srv), Getenv: noEnv, UserAgent: "omniagent/test"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "omniagent/test HTTP/1.1" {
		t.Fatalf("body = %q", b)
	}

	var logs strings.Builder
	c, err = New(Options{Server: "s", InsecureSkipVerify: true, Getenv: noEnv, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(srv.URL); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "DISABLED") {
		t.Fatalf("insecure_skip_verify must be logged as a warning: %q", logs.String())
	}
}

func TestBadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a cert"), 0o600)
	for name, o := range map[string]Options{
		"missing ca":  {Server: "s", CAFile: filepath.Join(dir, "none.pem")},
		"junk ca":     {Server: "s", CAFile: junk},
		"junk client": {Server: "s", ClientCert: junk, ClientKey: junk},
		"bad proxy":   {Server: "s", Proxy: "ftp//nowhere"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestResponseLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
	}))
	defer srv.Close()
	c, _ := New(Options{Server: "s", MaxResponse: 64, Getenv: func(string) string { return "" }})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("read past limit: %v", err)
	}
	// Exactly at the limit is fine; downloads opt out of the limit.
	c, _ = New(Options{Server: "s", MaxResponse: 100, Getenv: func(string) string { return "" }})
	resp, _ = c.Get(srv.URL)
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 100 {
		t.Fatalf("at limit: %d %v", len(b), err)
	}
	c, _ = New(Options{Server: "s", MaxResponse: 10, Getenv: func(string) string { return "" }})
	req, _ := http.NewRequestWithContext(WithoutLimit(context.Background()), "GET", srv.URL, nil)
	resp, _ = c.Do(req)
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 100 {
		t.Fatalf("without limit: %d %v", len(b), err)
	}
}

func TestProxy(t *testing.T) {
	var sawAuth string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = r.Header.Get("Proxy-Authorization")
		io.WriteString(w, "via proxy "+r.URL.String())
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	pu.User = url.UserPassword("agent", "s3cret")

	env := map[string]string{"NO_PROXY": "direct.example"}
	c, err := New(Options{Server: "s", Proxy: pu.String(), Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get("http://glpi.example/front/inventory.php")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "via proxy http://glpi.example/front/inventory.php" || sawAuth == "" {
		t.Fatalf("proxy not used or no credentials: %q auth=%q", b, sawAuth)
	}
	// The file wins: the environment's NO_PROXY does not override an explicit proxy key...
	tr := c.Transport.(*limitTransport).base.(*http.Transport)
	req, _ := http.NewRequest("GET", "http://direct.example/", nil)
	if u, _ := tr.Proxy(req); u == nil {
		t.Fatal("NO_PROXY overrode the proxy key")
	}
	// ...the server's own no_proxy does.
	c, _ = New(Options{Server: "s", Proxy: pu.String(), NoProxy: "direct.example", Getenv: func(k string) string { return env[k] }})
	tr = c.Transport.(*limitTransport).base.(*http.Transport)
	if u, _ := tr.Proxy(req); u != nil {
		t.Fatalf("no_proxy host proxied via %v", u)
	}
	// From the environment when no per-server proxy is set.
	env = map[string]string{"HTTP_PROXY": proxy.URL}
	c, _ = New(Options{Server: "s", Getenv: func(k string) string { return env[k] }})
	tr = c.Transport.(*limitTransport).base.(*http.Transport)
	req, _ = http.NewRequest("GET", "http://glpi.example/", nil)
	if u, _ := tr.Proxy(req); u == nil || u.Host != pu.Host {
		t.Fatalf("environment proxy not used: %v", u)
	}
	// "none" bypasses the environment.
	c, _ = New(Options{Server: "s", Proxy: "none", Getenv: func(k string) string { return env[k] }})
	if c.Transport.(*limitTransport).base.(*http.Transport).Proxy != nil {
		t.Fatal("proxy = none still proxies")
	}
}

func TestForceHTTP1(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ca := writeCA(t, srv)
	for force, want := range map[bool]string{false: "HTTP/2.0", true: "HTTP/1.1"} {
		c, err := New(Options{Server: "s", CAFile: ca, ForceHTTP1: force, Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("ForceHTTP1=%v: proto %s, want %s", force, b, want)
		}
	}
}

// A server sending its headers at once and then one byte at a time must not hold an API
// exchange past RequestTimeout; a payload transfer is cut by the throughput watchdog instead.
func TestTimeBoundsAgainstDrippingServer(t *testing.T) {
	srv := httptest.NewServer(hostile.Drip(http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`{"a":1}`), 20*time.Millisecond))
	defer srv.Close()
	noEnv := func(string) string { return "" }
	tests := []struct {
		name    string
		payload bool
		want    error
	}{
		{"api exchange", false, ErrRequestTimeout},
		{"payload download", true, ErrTooSlow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{Server: "s", Getenv: noEnv, RequestTimeout: 300 * time.Millisecond, MinRate: 1000, StallWindow: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.payload {
				ctx = WithoutLimit(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			start := time.Now()
			resp, err := c.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("took %s", took)
			}
		})
	}
}

// A payload that keeps moving is not cut by RequestTimeout.
func TestPayloadOutlivesRequestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			w.Write(make([]byte, 4096))
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c, err := New(Options{Server: "s", Getenv: func(string) string { return "" }, RequestTimeout: 150 * time.Millisecond, MinRate: 1000, StallWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(WithoutLimit(context.Background()), http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 40960 {
		t.Fatalf("read %d bytes, err %v", len(b), err)
	}
}
