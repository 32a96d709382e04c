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
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

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
	// environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy string
	// Timeout bounds connect, TLS handshake and waiting for response headers. Bodies are bounded
	// by the caller's context, so large downloads are not cut.
	Timeout     time.Duration
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

// ErrResponseTooLarge is returned by a body read past the limit.
var ErrResponseTooLarge = errors.New("response body exceeds the size limit")

type noLimitKey struct{}

// WithoutLimit marks a request context whose body has its own cap (payload downloads).
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
	proxy, err := proxyFunc(o)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
		ForceAttemptHTTP2:     !o.ForceHTTP1,
	}
	if o.ForceHTTP1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	var rt http.RoundTripper = &limitTransport{base: tr, ua: o.UserAgent, max: o.MaxResponse}
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

func proxyFunc(o Options) (func(*http.Request) (*url.URL, error), error) {
	switch strings.TrimSpace(o.Proxy) {
	case "none":
		return nil, nil
	case "":
		env := &httpproxy.Config{
			HTTPProxy:  firstEnv(o.Getenv, "HTTP_PROXY", "http_proxy"),
			HTTPSProxy: firstEnv(o.Getenv, "HTTPS_PROXY", "https_proxy"),
			NoProxy:    firstEnv(o.Getenv, "NO_PROXY", "no_proxy"),
		}
		f := env.ProxyFunc()
		return func(r *http.Request) (*url.URL, error) { return f(r.URL) }, nil
	}
	u, err := url.Parse(o.Proxy)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
		return nil, fmt.Errorf("server %s: proxy %q is not a proxy URL (http://[user:password@]host:port)", o.Server, redact(o.Proxy))
	}
	cfg := &httpproxy.Config{HTTPProxy: o.Proxy, HTTPSProxy: o.Proxy, NoProxy: firstEnv(o.Getenv, "NO_PROXY", "no_proxy")}
	f := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }, nil
}

func firstEnv(get func(string) string, names ...string) string {
	for _, n := range names {
		if v := get(n); v != "" {
			return v
		}
	}
	return ""
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

type limitTransport struct {
	base http.RoundTripper
	ua   string
	max  int64
}

func (t *limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", t.ua)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if v, _ := r.Context().Value(noLimitKey{}).(bool); v {
		return resp, nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, max: t.max}
	return resp, nil
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
