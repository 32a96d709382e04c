package httpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// ErrProxyRefused is matched (errors.Is) by every *ProxyError.
var ErrProxyRefused = errors.New("proxy refused the request")

// ProxyError is a forward proxy refusing a request: a CONNECT (https, WebSocket, MIG relay)
// or a plain http request in absolute form. Its message names the proxy (redacted), the
// target, the proxy's status and what to check, so it does not read as a server problem.
type ProxyError struct {
	Proxy      string // redacted proxy URL
	Method     string // CONNECT, GET, POST…
	Target     string // host:port
	StatusCode int
	Status     string // "407 Proxy Authentication Required"
	// Source names where the proxy was configured, for the hint: "the server's proxy key",
	// "HTTPS_PROXY", "the server's relay_proxy key".
	Source string
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("proxy %s refused %s %s: %s (%s)", e.Proxy, e.Method, e.Target, e.Status, e.hint())
}

// Is makes errors.Is(err, ErrProxyRefused) true.
func (e *ProxyError) Is(target error) bool { return target == ErrProxyRefused }

func (e *ProxyError) hint() string {
	src := e.Source
	if src == "" {
		src = "the server's proxy key or HTTPS_PROXY"
	}
	switch e.StatusCode {
	case http.StatusProxyAuthRequired:
		return "check the proxy user and password: " + src
	case http.StatusForbidden:
		if e.Method == http.MethodConnect {
			return "the proxy's rules deny this destination or port: its administrator must allow CONNECT to " + e.Target
		}
		return "the proxy's rules deny this destination: ask its administrator"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "the proxy could not reach the server: check the server address from the proxy's side, or bypass the proxy for it (no_proxy, proxy = \"none\")"
	}
	return "the proxy answered instead of the server: " + src
}

func proxyStatus(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// proxySetup is one server's proxy choice: the `proxy` key, the environment, or none.
type proxySetup struct {
	mode     string // "key", "env", "none"
	key      string // the proxy key (mode "key")
	httpVar  string // environment variable giving the http proxy ("" when unset)
	httpsVar string
	httpVal  string
	httpsVal string
	noProxy  string // what NO_PROXY-style exclusions apply
	fn       func(*url.URL) (*url.URL, error)
}

// proxyURLHelp is appended to every "not a proxy URL" error.
const proxyURLHelp = "want http://[user:password@]host:port; percent-encode special characters of the password, such as %25 for %, %40 for @, %3A for :"

func newProxySetup(o Options) (*proxySetup, error) {
	p := &proxySetup{}
	switch strings.TrimSpace(o.Proxy) {
	case "none":
		p.mode = "none"
		return p, nil
	case "":
		p.mode = "env"
		p.httpVar, p.httpVal = firstEnvName(o.Getenv, "HTTP_PROXY", "http_proxy")
		p.httpsVar, p.httpsVal = firstEnvName(o.Getenv, "HTTPS_PROXY", "https_proxy")
		for _, v := range [][2]string{{p.httpsVar, p.httpsVal}, {p.httpVar, p.httpVal}} {
			if v[0] != "" && !envProxyOK(v[1]) {
				// Go's own parser would ignore it silently and go direct.
				return nil, fmt.Errorf("server %s: environment variable %s = %q is not a proxy URL (%s)", o.Server, v[0], RedactURL(v[1]), proxyURLHelp)
			}
		}
		// NO_PROXY applies to the environment's proxies only; no_proxy adds to it.
		p.noProxy = joinNoProxy(firstEnv(o.Getenv, "NO_PROXY", "no_proxy"), o.NoProxy)
		p.fn = proxyFunc(p.httpVal, p.httpsVal, p.noProxy)
		return p, nil
	}
	p.mode, p.key = "key", strings.TrimSpace(o.Proxy)
	// Never wrap url.Parse's error: it quotes the whole value, password included.
	u, err := url.Parse(p.key)
	if err != nil || !proxyShape(u) {
		return nil, fmt.Errorf("server %s: proxy %q is not a proxy URL (%s; or \"none\")", o.Server, RedactURL(o.Proxy), proxyURLHelp)
	}
	// The file wins: NO_PROXY from the environment does not override an explicit proxy key,
	// only the server's own no_proxy does.
	p.noProxy = o.NoProxy
	p.fn = proxyFunc(p.key, p.key, p.noProxy)
	return p, nil
}

// envProxyOK accepts what Go's environment parser accepts (a bare host:port means http://),
// limited to the schemes the transport can use.
func envProxyOK(v string) bool {
	u := parseProxyValue(v)
	return u != nil && proxyShape(u)
}

// proxyShape accepts scheme://[userinfo@]host[:port][/] with a scheme the transport supports.
// A path, query or fragment means the value was misread (a password holding '/' makes
// http://user:12/x@host parse as host "user", port 12).
func proxyShape(u *url.URL) bool {
	return u.Host != "" && u.Opaque == "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery &&
		(u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "socks5")
}

func joinNoProxy(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}

func firstEnvName(get func(string) string, names ...string) (string, string) {
	for _, n := range names {
		if v := get(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// forURL is the proxy for a request to u, nil for direct.
func (p *proxySetup) forURL(u *url.URL) (*url.URL, error) {
	if p == nil || p.fn == nil {
		return nil, nil
	}
	// WebSocket URLs take the proxy of their http(s) counterpart.
	switch u.Scheme {
	case "ws":
		c := *u
		c.Scheme = "http"
		u = &c
	case "wss":
		c := *u
		c.Scheme = "https"
		u = &c
	}
	return p.fn(u)
}

// source names where the proxy for a target scheme is configured, for error hints.
func (p *proxySetup) source(scheme string) string {
	if p == nil || p.mode != "env" {
		return "the server's proxy key"
	}
	if scheme == "https" || scheme == "wss" {
		return p.httpsVar
	}
	return p.httpVar
}

// ProxyInEffect describes, redacted, the proxy a server's requests to serverURL use:
// "http://user@proxy:3128", "env (HTTPS_PROXY=http://user@proxy:3128)", "none", with the
// reason when a configured proxy is bypassed (a loopback server, no_proxy, NO_PROXY).
// serverURL may be empty (discovered servers): the setting alone is described. The error is
// the one New would return for a proxy key or an environment value that does not parse.
func ProxyInEffect(o Options, serverURL string) (string, error) {
	if o.Getenv == nil {
		o.Getenv = osGetenv
	}
	p, err := newProxySetup(o)
	if err != nil {
		return "", err
	}
	var setting string
	scheme := "https"
	var target *url.URL
	if serverURL != "" {
		if u, err := url.Parse(serverURL); err == nil && u.Host != "" {
			target, scheme = u, u.Scheme
		}
	}
	switch p.mode {
	case "none":
		return "none", nil
	case "key":
		setting = RedactURL(p.key)
	default:
		name, val := p.httpsVar, p.httpsVal
		if scheme == "http" || scheme == "ws" {
			name, val = p.httpVar, p.httpVal
		}
		if name == "" {
			if scheme == "http" || scheme == "ws" {
				return "env (HTTP_PROXY not set: direct)", nil
			}
			return "env (HTTPS_PROXY not set: direct)", nil
		}
		setting = fmt.Sprintf("env (%s=%s)", name, RedactURL(val))
	}
	if target == nil {
		return setting, nil
	}
	if pu, err := p.forURL(target); err == nil && pu != nil {
		return setting, nil
	}
	if isLoopback(target.Hostname()) {
		return setting + ", bypassed: loopback server (Go never proxies localhost, 127.0.0.0/8, ::1)", nil
	}
	return setting + ", bypassed: " + target.Hostname() + " matches no_proxy/NO_PROXY", nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// onConnectResponse turns a refused CONNECT of Go's transport (https through a proxy) into a
// *ProxyError; Go alone reports only the status text ("Proxy Authentication Required").
func (p *proxySetup) onConnectResponse(_ context.Context, proxyURL *url.URL, req *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &ProxyError{Proxy: RedactURL(proxyURL.String()), Method: http.MethodConnect, Target: req.Host, StatusCode: resp.StatusCode, Status: proxyStatus(resp), Source: p.source("https")}
}

// proxyAnswered tells a refusal generated by the proxy from the server's own answer relayed
// by it, for plain http requests sent to the proxy in absolute form. 407 only ever comes from a
// proxy; other statuses count when the proxy marks the page as its own (Squid's X-Squid-Error)
// or asks for credentials (Proxy-Authenticate).
func proxyAnswered(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusProxyAuthRequired:
		return true
	case http.StatusForbidden, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return resp.Header.Get("X-Squid-Error") != "" || resp.Header.Get("Proxy-Authenticate") != ""
	}
	return false
}

// hostPort is u's host with its scheme's default port.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" || u.Scheme == "wss" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// DialConnect opens a tunnel to addr (host:port) through the HTTP CONNECT proxy proxy
// (http://, or https:// with tlsCfg for the proxy's certificate). d dials the proxy; timeout
// bounds the CONNECT exchange. A refusal is a *ProxyError whose hint names source (where the
// proxy is configured). The MIG relay and WebSocket dials use it.
func DialConnect(ctx context.Context, d *net.Dialer, proxy *url.URL, addr string, tlsCfg *tls.Config, timeout time.Duration, source string) (net.Conn, error) {
	host := proxy.Host
	if proxy.Port() == "" {
		port := "80"
		if proxy.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(proxy.Hostname(), port)
	}
	name := RedactURL(proxy.String())
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", name, err)
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		c.Close()
		return nil, err
	}
	// Cancelling ctx aborts the exchange.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if proxy.Scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if tlsCfg != nil {
			cfg = tlsCfg.Clone()
		}
		cfg.ServerName = proxy.Hostname()
		cfg.NextProtos = nil
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("proxy %s: TLS handshake: %w", name, err)
		}
		c = tc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if proxy.User != nil {
		pw, _ := proxy.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw)))
	}
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("proxy %s: send CONNECT %s: %w", name, addr, err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("proxy %s: read the answer to CONNECT %s: %w", name, addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		c.Close()
		return nil, &ProxyError{Proxy: name, Method: http.MethodConnect, Target: addr, StatusCode: resp.StatusCode, Status: proxyStatus(resp), Source: source}
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, err
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// bufferedConn replays bytes the proxy sent right after its answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

type tunnelKey struct{}

// isUpgrade reports a WebSocket (or other Upgrade) request.
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// newTunnelTransport carries plain-http Upgrade requests (ws://) through a CONNECT tunnel: sent
// to a proxy in absolute form they are refused (426/400). The proxy travels in the request
// context; connections are never reused (an upgraded connection is the caller's).
func newTunnelTransport(d *net.Dialer, tlsCfg *tls.Config, timeout time.Duration, p *proxySetup) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			pu, _ := ctx.Value(tunnelKey{}).(*url.URL)
			if pu == nil {
				return nil, errors.New("websocket tunnel: no proxy in the request context")
			}
			return DialConnect(ctx, d, pu, addr, tlsCfg, timeout, p.source("http"))
		},
		DisableKeepAlives:     true,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     false,
	}
}

// drainClose discards a little of a refused body so the connection may be reused.
func drainClose(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	rc.Close()
}

// transportProxy is the http.Transport Proxy function; nil when no proxy can apply.
func (p *proxySetup) transportProxy() func(*http.Request) (*url.URL, error) {
	if p.fn == nil {
		return nil
	}
	return func(r *http.Request) (*url.URL, error) { return p.forURL(r.URL) }
}

func osGetenv(k string) string { return os.Getenv(k) }
