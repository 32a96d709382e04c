// Package httpclient builds the HTTP client of one server: TLS verification with an optional
// private CA and client certificate, proxy, timeouts, User-Agent and a response size limit.
package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/mainstack"
	"github.com/omniagent/omniagent/version"
)

// Options for one server's client.
type Options struct {
	Server             string // for messages
	CAFile             string
	ClientCert         string
	ClientKey          string
	InsecureSkipVerify bool
	// Proxy is a URL (user:password allowed), "none" to bypass every proxy, or "" to use the
	// environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). An explicit URL ignores NO_PROXY: the
	// file wins.
	Proxy string
	// NoProxy lists hosts reached directly (NO_PROXY syntax), with the proxy key or in
	// addition to the environment's NO_PROXY.
	NoProxy string
	// Timeout bounds connect, TLS handshake and waiting for response headers.
	Timeout time.Duration
	// RequestTimeout bounds each whole API exchange, request and response bodies included
	// (default 2 min), so a server dripping its answer cannot hold a cycle. Payload transfers
	// (contexts marked WithoutLimit) are not cut by it but by the throughput watchdog below.
	RequestTimeout time.Duration
	// MinRate and StallWindow are the payload watchdog: a transfer moving fewer than
	// MinRate bytes per second over StallWindow is aborted with ErrTooSlow (the download
	// resumes from where it stopped). Defaults 1 KiB/s over 60 s.
	MinRate     int64
	StallWindow time.Duration
	MaxResponse int64 // bytes; 0 = 64 MiB
	ForceHTTP1  bool
	UserAgent   string
	Logger      *slog.Logger
	// ExchangeLog, when set, logs every exchange at debug level (method, path, status, bytes
	// both ways, duration; never a query, header or body). Give it the server's logger.
	ExchangeLog *slog.Logger
	// Getenv reads proxy variables; nil means os.Getenv. Tests replace it.
	Getenv func(string) string
}

// DefaultMaxResponse bounds a response body unless a caller opts out with WithoutLimit.
const DefaultMaxResponse = 64 << 20

// Defaults of the time bounds.
const (
	DefaultRequestTimeout = 2 * time.Minute
	DefaultMinRate        = 1 << 10
	DefaultStallWindow    = time.Minute
)

// ErrRequestTimeout is wrapped by the error of an API exchange that outlived RequestTimeout.
var ErrRequestTimeout = errors.New("request_timeout exceeded (the whole exchange, body included)")

// ErrTooSlow is wrapped by the error of a payload transfer aborted by the throughput watchdog.
var ErrTooSlow = errors.New("transfer too slow")

// ErrResponseTooLarge is returned by a body read past the limit.
var ErrResponseTooLarge = errors.New("response body exceeds the size limit")

type noLimitKey struct{}

// WithoutLimit marks a request context whose body has its own cap (payload downloads, uploads,
// WebSocket upgrades): no size limit and no RequestTimeout, but the throughput watchdog.
func WithoutLimit(ctx context.Context) context.Context {
	return context.WithValue(ctx, noLimitKey{}, true)
}

// New builds the client.
func New(o Options) (*http.Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MinRate <= 0 {
		o.MinRate = DefaultMinRate
	}
	if o.StallWindow <= 0 {
		o.StallWindow = DefaultStallWindow
	}
	if o.UserAgent == "" {
		o.UserAgent = version.UserAgent()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	tlsCfg, err := TLSConfig(o)
	if err != nil {
		return nil, err
	}
	if o.InsecureSkipVerify && o.Logger != nil {
		o.Logger.Warn("TLS certificate verification is DISABLED for this server (insecure_skip_verify = true); anyone on the path can impersonate it", "server", o.Server)
	}
	ps, err := newProxySetup(o)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: ps.transportProxy(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mainstack.Grow()
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
		ForceAttemptHTTP2:     !o.ForceHTTP1,
	}
	// Go alone reports a refused CONNECT as its status text only.
	tr.OnProxyConnectResponse = ps.onConnectResponse
	if o.ForceHTTP1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	lt := &limitTransport{base: tr, ua: o.UserAgent, max: o.MaxResponse, proxy: ps,
		reqTimeout: o.RequestTimeout, minRate: o.MinRate, window: o.StallWindow}
	if ps.fn != nil {
		lt.tunnel = newTunnelTransport(dialer, tlsCfg, o.Timeout, ps)
	}
	var rt http.RoundTripper = lt
	if o.ExchangeLog != nil {
		rt = &logTransport{base: rt, log: o.ExchangeLog}
	}
	return &http.Client{Transport: rt}, nil
}

// TLSConfig builds the TLS settings alone (AMQP and WebSocket dialers use them too).
func TLSConfig(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // opt-in, logged
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("server %s: read ca_file: %w", o.Server, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server %s: ca_file %s holds no PEM certificate", o.Server, o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.ClientCert != "" || o.ClientKey != "" {
		cert, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("server %s: load client_cert/client_key: %w", o.Server, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func firstEnv(get func(string) string, names ...string) string {
	for _, n := range names {
		if v := get(n); v != "" {
			return v
		}
	}
	return ""
}

type limitTransport struct {
	base       http.RoundTripper
	ua         string
	max        int64
	proxy      *proxySetup
	tunnel     *http.Transport // ws:// through a proxy; nil without one
	reqTimeout time.Duration
	minRate    int64
	window     time.Duration
}

func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	payload, _ := r.Context().Value(noLimitKey{}).(bool)
	// Every request gets its own context, cancelled with a cause when a bound is hit and
	// when its body is closed.
	var ctx context.Context
	var cancel context.CancelCauseFunc
	var wd *watchdog
	if payload {
		ctx, cancel = context.WithCancelCause(r.Context())
		wd = startWatchdog(t.minRate, t.window, cancel)
	} else {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(r.Context(), t.reqTimeout, fmt.Errorf("%w: %s", ErrRequestTimeout, t.reqTimeout))
		cancel = func(error) { stop() }
	}
	r = r.Clone(ctx)
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.ua)
	}
	if wd != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = &watchedBody{rc: r.Body, wd: wd}
	}
	var pu *url.URL
	if r.URL.Scheme == "http" && t.proxy.fn != nil {
		pu, _ = t.proxy.forURL(r.URL)
	}
	base := t.base
	if pu != nil && (pu.Scheme == "http" || pu.Scheme == "https") && isUpgrade(r) && t.tunnel != nil {
		// A WebSocket over http:// goes through a CONNECT tunnel, as https does.
		r = r.WithContext(context.WithValue(r.Context(), tunnelKey{}, pu))
		base = t.tunnel
		pu = nil // a refusal is already a *ProxyError from the dialer
	}
	resp, err := base.RoundTrip(r)
	if err != nil || resp.Body == nil {
		err = boundErr(ctx, err)
		wd.stop()
		cancel(nil)
		return resp, err
	}
	if pu != nil && (pu.Scheme == "http" || pu.Scheme == "https") && proxyAnswered(resp) {
		drainClose(resp.Body)
		wd.stop()
		cancel(nil)
		return nil, &ProxyError{Proxy: RedactURL(pu.String()), Method: r.Method, Target: hostPort(r.URL), StatusCode: resp.StatusCode, Status: proxyStatus(resp), Source: t.proxy.source("http")}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The body is the upgraded connection (WebSocket): it lives on its own from here.
		wd.stop()
		cancel(nil)
		return resp, nil
	}
	var body io.ReadCloser = resp.Body
	if !payload {
		body = &limitedBody{rc: body, left: t.max, max: t.max}
	}
	resp.Body = &boundBody{rc: body, ctx: ctx, wd: wd, cancel: cancel}
	return resp, nil
}

// boundErr replaces a transport error caused by one of our bounds with that bound's error.
func boundErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrRequestTimeout) || errors.Is(cause, ErrTooSlow) {
		return cause
	}
	return err
}

// boundBody releases the request's context and watchdog when the body is closed.
type boundBody struct {
	rc     io.ReadCloser
	ctx    context.Context
	wd     *watchdog
	cancel context.CancelCauseFunc
}

func (b *boundBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.wd.add(n)
	if err != nil && err != io.EOF {
		err = boundErr(b.ctx, err)
	}
	return n, err
}

func (b *boundBody) Close() error {
	err := b.rc.Close()
	b.wd.stop()
	b.cancel(nil)
	return err
}

// watchedBody feeds what a request body sends to the throughput watchdog.
type watchedBody struct {
	rc io.ReadCloser
	wd *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.wd.add(n)
	return n, err
}

func (b *watchedBody) Close() error { return b.rc.Close() }

// watchdog aborts a transfer that moved fewer than minRate bytes per second over a window
// (either direction counts). A nil watchdog does nothing.
type watchdog struct {
	moved  atomic.Int64
	last   int64
	need   int64
	window time.Duration
	timer  *time.Timer
	mu     sync.Mutex
	done   bool
	cancel context.CancelCauseFunc
}

func startWatchdog(minRate int64, window time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{need: int64(float64(minRate) * window.Seconds()), window: window, cancel: cancel}
	w.mu.Lock()
	w.timer = time.AfterFunc(window, w.check)
	w.mu.Unlock()
	return w
}

func (w *watchdog) add(n int) {
	if w != nil && n > 0 {
		w.moved.Add(int64(n))
	}
}

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	now := w.moved.Load()
	if now-w.last < w.need {
		w.done = true
		w.cancel(fmt.Errorf("%w: %d bytes in the last %s, below %d bytes/s: aborted", ErrTooSlow, now-w.last, w.window, w.need/max(1, int64(w.window.Seconds()))))
		return
	}
	w.last = now
	w.timer.Reset(w.window)
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	w.timer.Stop()
}

// CloseIdle releases idle connections of a client built here.
func CloseIdle(c *http.Client) {
	rt := c.Transport
	if l, ok := rt.(*logTransport); ok {
		rt = l.base
	}
	if lt, ok := rt.(*limitTransport); ok {
		if tr, ok := lt.base.(*http.Transport); ok {
			tr.CloseIdleConnections()
		}
		if lt.tunnel != nil {
			lt.tunnel.CloseIdleConnections()
		}
	}
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly max bytes from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w (%d bytes)", ErrResponseTooLarge, b.max)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
