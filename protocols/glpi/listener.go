package glpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/omniagent/omniagent/protocols"
)

// The listener answers GLPI's "Agent status" and "Request inventory" buttons the way
// glpi-agent's httpd does (protocols/glpi.md §3.9): GET /status, GET and CORS OPTIONS /now.
// Nothing else is served. It runs only in the daemon, only when listen is set.
const (
	listenMaxConns     = 16               // connections served at once; more wait in the backlog
	listenMaxHeader    = 8 << 10          // request line and headers
	listenRate         = time.Second      // one token per second per source...
	listenBurst        = 20               // ...up to this many at once
	listenMaxSources   = 4096             // rate and log state kept for at most this many sources
	listenLogEvery     = time.Minute      // a refused source is logged at most once per minute
	trustCacheFor      = time.Minute      // the server's addresses are resolved again after this
	trustResolveLimit  = 5 * time.Second  // bound of one resolution
	listenReadHeader   = 5 * time.Second  // slow clients are cut off
	listenReadTimeout  = 10 * time.Second // whole request
	listenWriteTimeout = 10 * time.Second
	listenIdleTimeout  = 30 * time.Second
)

// listenPort checks a listen address and returns its port.
func listenPort(addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%q: want host:port, e.g. \"0.0.0.0:62354\": %w", addr, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return 0, fmt.Errorf("%q: the host must be an IP address (0.0.0.0 or [::] for all)", addr)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return n, nil
}

// parseTrust reads trust entries: IP addresses or CIDR ranges.
func parseTrust(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// categorySections maps glpi-agent's inventory category names (as GLPI's /now?category= and
// no-category use them) to the content section each fills (a table, not a map: a map literal
// is built by code at every start).
var categorySections = [][2]string{
	{"software", "softwares"}, {"os", "operatingsystem"}, {"bios", "bios"}, {"hardware", "hardware"},
	{"cpu", "cpus"}, {"memory", "memories"}, {"drive", "drives"}, {"storage", "storages"},
	{"network", "networks"}, {"controller", "controllers"}, {"printer", "printers"},
	{"monitor", "monitors"}, {"video", "videos"}, {"user", "users"}, {"local_user", "local_users"},
	{"local_group", "local_groups"}, {"process", "processes"}, {"antivirus", "antivirus"},
	{"battery", "batteries"}, {"usb", "usbdevices"}, {"environment", "envs"},
	{"license", "licenseinfos"}, {"virtualmachine", "virtualmachines"}, {"port", "ports"},
	{"slot", "slots"}, {"sound", "sounds"}, {"input", "inputs"}, {"firewall", "firewalls"},
	{"remote_mgmt", "remote_mgmt"}, {"modem", "modems"},
}

// categorySection is the content section a category fills, "" for an unknown category.
func categorySection(c string) string {
	for _, cs := range categorySections {
		if cs[0] == c {
			return cs[1]
		}
	}
	return ""
}

// parseCategories reads a comma list of categories; an unknown one is an error.
func parseCategories(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if categorySection(c) == "" {
			return nil, fmt.Errorf("unknown inventory category %q", c)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no category")
	}
	return out, nil
}

// listener is one GLPI server's agent listener.
type listener struct {
	a      *Adapter
	log    *slog.Logger
	addr   string
	trust  []netip.Prefix
	host   string // the GLPI server URL's host (its addresses may call /now)
	origin string // the GLPI server URL's authority, the only CORS origin allowed
	runNow func(protocols.Request) error

	mu       sync.Mutex
	resolved []netip.Addr
	until    time.Time
	sources  map[netip.Addr]*source
	bound    int // the port actually listened on, 0 before
}

// source is what the listener remembers of one caller.
type source struct {
	tokens     float64
	last       time.Time // last token refill
	logged     time.Time // last refusal logged
	suppressed int       // refusals not logged since
}

func newListener(a *Adapter, o *Options) (*listener, error) {
	trust, err := parseTrust(o.Trust)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(a.deps.Server.URL)
	if err != nil {
		return nil, fmt.Errorf("server url: %w", err)
	}
	return &listener{
		a: a, log: a.log.With("component", "listener"), addr: o.Listen, trust: trust,
		host: u.Hostname(), origin: u.Host, runNow: a.deps.RunNow, sources: map[netip.Addr]*source{},
	}, nil
}

// port is the port to advertise as httpd-port: the one listened on, else the configured one.
func (l *listener) port() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bound > 0 {
		return l.bound
	}
	p, _ := listenPort(l.addr)
	return p
}

// serve listens until ctx ends.
func (l *listener) serve(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", l.addr)
	if err != nil {
		return fmt.Errorf("glpi listener on %s: %w", l.addr, err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		l.mu.Lock()
		l.bound = ta.Port
		l.mu.Unlock()
	}
	l.log.Info("listening for GLPI's agent status and inventory requests", "addr", ln.Addr().String(), "trust", len(l.trust))
	srv := &http.Server{
		Handler:           l,
		ReadHeaderTimeout: listenReadHeader,
		ReadTimeout:       listenReadTimeout,
		WriteTimeout:      listenWriteTimeout,
		IdleTimeout:       listenIdleTimeout,
		MaxHeaderBytes:    listenMaxHeader,
		ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(netutil.LimitListener(ln, listenMaxConns)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("glpi listener: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}

// ServeHTTP answers /status and /now; every other request is refused as glpi-agent does (400).
func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	src := remoteAddr(r)
	if !l.allow(src) {
		l.refuse(w, src, r, http.StatusTooManyRequests, "too many requests")
		return
	}
	// Nothing GLPI sends has a body.
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		l.refuse(w, src, r, http.StatusRequestEntityTooLarge, "request with a body")
		return
	}
	switch {
	case r.URL.Path == "/status" && r.Method == http.MethodGet:
		state := "waiting"
		if l.a.busy.Load() {
			state = "running task inventory"
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "status: "+state)
	case (r.URL.Path == "/now" || strings.HasPrefix(r.URL.Path, "/now/")) && (r.Method == http.MethodGet || r.Method == http.MethodOptions):
		l.now(w, r, src)
	default:
		l.refuse(w, src, r, http.StatusBadRequest, "unknown path or method")
	}
}

// now is GLPI's "Request inventory": the next contact happens now, for trusted callers only.
func (l *listener) now(w http.ResponseWriter, r *http.Request, src netip.Addr) {
	if !l.trusted(r.Context(), src) {
		l.refuse(w, src, r, http.StatusForbidden, "untrusted address")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		// A browser page may call /now only from the GLPI server's own origin.
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, l.origin) {
			l.refuse(w, src, r, http.StatusForbidden, "origin not allowed")
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		if r.Header.Get("Access-Control-Request-Headers") != "" {
			w.Header().Set("Access-Control-Allow-Headers", "*")
		}
	}
	if r.Method == http.MethodOptions {
		if r.Header.Get("Access-Control-Request-Method") != http.MethodGet {
			l.refuse(w, src, r, http.StatusForbidden, "CORS preflight for a method other than GET")
			return
		}
		w.Header().Set("Access-Control-Request-Method", http.MethodGet)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	req := protocols.Request{Source: "glpi listener " + src.String()}
	q := r.URL.Query()
	if yes(q.Get("partial")) && q.Get("category") != "" {
		cats, err := parseCategories(q.Get("category"))
		if err != nil {
			l.refuse(w, src, r, http.StatusBadRequest, err.Error())
			return
		}
		req.Categories = cats
	}
	if l.runNow == nil {
		l.refuse(w, src, r, http.StatusServiceUnavailable, "no scheduler to run the cycle")
		return
	}
	if err := l.runNow(req); err != nil {
		l.log.Warn("cannot run the cycle now", "from", src.String(), "err", err)
		page(w, http.StatusServiceUnavailable, "Service unavailable")
		return
	}
	l.log.Info("GLPI asked for the next contact now", "from", src.String(), "categories", req.Categories)
	page(w, http.StatusOK, "OK")
}

func yes(s string) bool { return strings.EqualFold(s, "yes") || s == "1" }

// page writes the small text/html page glpi-agent answers /now with.
func page(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html><head><title>GLPI Agent</title></head><body>%s</body></html>\n", msg)
}

// refuse answers code and logs the refusal, at most once per minute per source.
func (l *listener) refuse(w http.ResponseWriter, src netip.Addr, r *http.Request, code int, why string) {
	now := time.Now()
	l.mu.Lock()
	s := l.sourceLocked(src, now)
	logIt := now.Sub(s.logged) >= listenLogEvery
	n := s.suppressed
	if logIt {
		s.logged, s.suppressed = now, 0
	} else {
		s.suppressed++
	}
	l.mu.Unlock()
	if logIt {
		l.log.Warn("listener refused a request", "from", src.String(), "method", r.Method, "path", trimPath(r.URL.Path), "status", code, "why", why, "refused_before_unlogged", n)
	}
	if code == http.StatusForbidden {
		page(w, code, "Access denied")
		return
	}
	page(w, code, http.StatusText(code))
}

func trimPath(p string) string {
	if len(p) > 64 {
		return p[:64] + "…"
	}
	return p
}

// allow takes one token of src's bucket.
func (l *listener) allow(src netip.Addr) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sourceLocked(src, now)
	s.tokens = min(float64(listenBurst), s.tokens+float64(now.Sub(s.last))/float64(listenRate))
	s.last = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// sourceLocked finds or makes src's record; when too many are kept, the idle ones go.
func (l *listener) sourceLocked(src netip.Addr, now time.Time) *source {
	if s, ok := l.sources[src]; ok {
		return s
	}
	if len(l.sources) >= listenMaxSources {
		for k, s := range l.sources {
			if now.Sub(s.last) > listenLogEvery && now.Sub(s.logged) > listenLogEvery {
				delete(l.sources, k)
			}
		}
		if len(l.sources) >= listenMaxSources {
			clear(l.sources) // under a flood of sources: forget them all rather than grow
		}
	}
	s := &source{tokens: listenBurst, last: now}
	l.sources[src] = s
	return s
}

// trusted says whether src may call /now: one of the GLPI server's addresses, or in trust.
func (l *listener) trusted(ctx context.Context, src netip.Addr) bool {
	if !src.IsValid() {
		return false
	}
	for _, p := range l.trust {
		if p.Contains(src) {
			return true
		}
	}
	for _, a := range l.serverAddrs(ctx) {
		if a == src {
			return true
		}
	}
	return false
}

// serverAddrs resolves the server URL's host, cached for a minute as glpi-agent does.
func (l *listener) serverAddrs(ctx context.Context) []netip.Addr {
	if a, err := netip.ParseAddr(l.host); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	l.mu.Lock()
	if time.Now().Before(l.until) {
		defer l.mu.Unlock()
		return l.resolved
	}
	l.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, trustResolveLimit)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", l.host)
	if err != nil {
		l.log.Warn("cannot resolve the server's host to check a caller", "host", l.host, "err", err)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resolved, l.until = addrs, time.Now().Add(trustCacheFor)
	return addrs
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
