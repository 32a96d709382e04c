// Package rdfm speaks the device side of RDFM (Remote Device Fleet Manager): RSA-signed
// device authentication with admin approval, and the update check/download/install loop.
package rdfm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/lazyre"
	"github.com/omniagent/omniagent/protocols"
)

// Name is the protocol name in agent.toml.
const Name = "rdfm"

// keyBits is the device key size (the official Linux client uses 4096).
const keyBits = 4096

// Protocol describes RDFM for the registry.
func Protocol() protocols.Protocol {
	return protocols.Protocol{
		Name:            Name,
		NewOptions:      func() any { return NewOptions() },
		DefaultInterval: 15 * time.Minute,
		New:             func(d protocols.Deps) (protocols.Adapter, error) { return New(d) },
	}
}

// ErrPending is wrapped by the Cycle error while the server has not accepted the device yet.
// In the daemon it is not an error (the Result carries it in Details); --oneshot reports it as
// a failure so that scripts notice an unapproved device.
var ErrPending = errors.New("device waiting for acceptance by an RDFM administrator")

// persisted is the per-server state file.
type persisted struct {
	Schema          int    `json:"schema"`
	PrivateKey      string `json:"private_key"` // PKCS#8 PEM
	PublicKey       string `json:"public_key"`  // the exact string sent to the server
	MAC             string `json:"mac"`
	SoftwareVersion string `json:"software_version"`
	// Failed holds the install failures per package ("id:sha256").
	Failed map[string]failure `json:"failed,omitempty"`
}

type failure struct {
	Count int       `json:"count"`
	Until time.Time `json:"until"`
}

// Adapter is one configured RDFM server.
type Adapter struct {
	d      protocols.Deps
	opts   *Options
	log    *slog.Logger
	client *http.Client
	// wsClient is HTTP/1.1 for WebSocket upgrades.
	wsClient *http.Client
	base     *url.URL
	now      func() time.Time
	genKey   func() (*rsa.PrivateKey, error)

	sessMu sync.Mutex
	sess   *session // the live management connection, if any
	shells int      // running shell sessions
	// socketState is the management socket's state for `omniagent status` (daemon only).
	socketState string

	// rep holds the update progress and version for the server until the socket takes them.
	rep reports

	// updMu makes update cycles (check, download, install) run one at a time. It is held
	// through downloads and installs; mu never is, so the socket, shells and reconnects go on.
	updMu sync.Mutex

	mu     sync.Mutex // guards everything below; held only for short sections, never across I/O of an update
	loaded bool
	st     persisted
	key    *rsa.PrivateKey

	// authMu makes one token refresh at a time. It is never taken with mu held: a slow auth
	// request must not stop update checks, the socket or shells that have a valid token.
	authMu sync.Mutex
	tokMu  sync.Mutex // guards the token fields below (held only to read or set them)
	token  string
	tokAt  time.Time // local monotonic receipt time
	tokTTL time.Duration
	// pendingUntil: the server said "not accepted yet"; until then nobody asks again (one auth
	// request per retry interval whether the cycle, the socket or a shell wants a token).
	pendingUntil time.Time
}

// New builds the adapter.
func New(d protocols.Deps) (*Adapter, error) {
	opts, _ := d.Server.Options.(*Options)
	if opts == nil {
		opts = NewOptions()
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("rdfm %s: %w", d.Server.Name, err)
	}
	u, err := url.Parse(strings.TrimRight(d.Server.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rdfm %s: url %q must be http(s)://host[:port]", d.Server.Name, d.Server.URL)
	}
	if d.HTTP == nil || d.State == nil || d.Jobs == nil {
		return nil, fmt.Errorf("rdfm %s: HTTP, State and Jobs are required", d.Server.Name)
	}
	client, err := d.HTTP(false)
	if err != nil {
		return nil, fmt.Errorf("rdfm %s: http client: %w", d.Server.Name, err)
	}
	wsClient, err := d.HTTP(true)
	if err != nil {
		return nil, fmt.Errorf("rdfm %s: http client: %w", d.Server.Name, err)
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Adapter{
		d: d, opts: opts, log: log.With("server", d.Server.Name), client: client, wsClient: wsClient, base: u, now: now,
		genKey: func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, keyBits) },
	}, nil
}

// Cycle authenticates (if needed) and runs one update check.
// With --oneshot it then connects the management socket, answers what the server has queued
// (capability report, action list, queued actions) and disconnects.
func (a *Adapter) Cycle(ctx context.Context) (protocols.Result, error) {
	res, err := a.cycle(ctx)
	// Only queued actions are worth draining; without the capability the server sends none.
	if err != nil || !a.d.Options.Oneshot || !a.capabilities()["action"] {
		return res, err
	}
	if _, derr := a.serve(ctx, true); derr != nil {
		return res, fmt.Errorf("rdfm %s: oneshot management session: %w", a.d.Server.Name, derr)
	}
	res.Summary += "; management queue drained"
	return res, nil
}

func (a *Adapter) cycle(ctx context.Context) (protocols.Result, error) {
	a.updMu.Lock()
	defer a.updMu.Unlock()
	a.mu.Lock()
	err := a.load(ctx)
	mac := a.st.MAC
	a.mu.Unlock()
	if err != nil {
		return protocols.Result{}, err
	}
	if err := a.auth(ctx, ""); err != nil {
		return a.pendingResult(mac, err)
	}
	return a.checkUpdate(ctx)
}

// pendingResult turns ErrPending into the "waiting for acceptance" result (not an error in
// the daemon, a failure for --oneshot); other errors pass.
func (a *Adapter) pendingResult(mac string, err error) (protocols.Result, error) {
	if !errors.Is(err, ErrPending) {
		return protocols.Result{}, err
	}
	res := protocols.Result{
		Next:    a.opts.RetryInterval.D(),
		Summary: "waiting for acceptance",
		Details: map[string]string{"registration": "waiting for acceptance by an administrator (device " + mac + ")"},
	}
	if a.d.Options.Oneshot {
		return res, err
	}
	return res, nil
}

// auth is ensureToken behind the acceptance gate: while the server says the device is not
// accepted, at most one auth request goes out per retry interval, whoever asks. rejected is the
// token the server just refused ("" when none). Call without mu held.
func (a *Adapter) auth(ctx context.Context, rejected string) error {
	a.mu.Lock()
	gated := a.now().Before(a.pendingUntil)
	a.mu.Unlock()
	if gated && a.currentToken() == "" {
		return fmt.Errorf("rdfm %s: %w", a.d.Server.Name, ErrPending)
	}
	err := a.ensureToken(ctx, rejected)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case errors.Is(err, ErrPending):
		a.pendingUntil = a.now().Add(a.opts.RetryInterval.D())
	case err == nil:
		a.pendingUntil = time.Time{}
	}
	return err
}

// load reads the state, creating the key and choosing the MAC the first time.
func (a *Adapter) load(ctx context.Context) error {
	if a.loaded {
		return nil
	}
	var st persisted
	found, err := a.d.State.Load(&st)
	if err != nil {
		return fmt.Errorf("rdfm %s: state: %w", a.d.Server.Name, err)
	}
	dirty := !found
	if st.PrivateKey == "" {
		k, err := a.genKey()
		if err != nil {
			return fmt.Errorf("rdfm %s: generate device key: %w", a.d.Server.Name, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return fmt.Errorf("rdfm %s: encode device key: %w", a.d.Server.Name, err)
		}
		st.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		st.PublicKey = ""
		dirty = true
	}
	key, err := parsePrivateKey(st.PrivateKey)
	if err != nil {
		return fmt.Errorf("rdfm %s: stored device key: %w", a.d.Server.Name, err)
	}
	if st.PublicKey == "" {
		pub, err := PublicPEM(&key.PublicKey)
		if err != nil {
			return fmt.Errorf("rdfm %s: %w", a.d.Server.Name, err)
		}
		st.PublicKey = pub
		dirty = true
	}
	if dirty && st.MAC == "" {
		// Keep the new key even if no MAC can be chosen yet: generating a 4096-bit key costs
		// seconds of CPU and must not be repeated on every retry.
		st.Schema = 1
		if err := a.d.State.Save(&st); err != nil {
			return fmt.Errorf("rdfm %s: save state: %w", a.d.Server.Name, err)
		}
		dirty = false
	}
	if st.MAC == "" {
		mac, err := a.chooseMAC(ctx)
		if err != nil {
			return err
		}
		st.MAC = mac
		dirty = true
	}
	if st.SoftwareVersion == "" {
		st.SoftwareVersion = a.opts.SoftwareVersion
		if st.SoftwareVersion == "" {
			st.SoftwareVersion = "0.0.0"
		}
		dirty = true
	}
	if dirty {
		st.Schema = 1
		if err := a.d.State.Save(&st); err != nil {
			return fmt.Errorf("rdfm %s: save state: %w", a.d.Server.Name, err)
		}
	}
	a.st, a.key, a.loaded = st, key, true
	return nil
}

func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		return rk, nil
	}
	// The official client labels PKCS#1 DER as PRIVATE KEY.
	return x509.ParsePKCS1PrivateKey(b.Bytes)
}

// PublicPEM is the SubjectPublicKeyInfo PEM (64-column lines, final newline) sent as public_key.
func PublicPEM(k *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// chooseMAC picks the config override or the first physical MAC sorted by interface name.
func (a *Adapter) chooseMAC(ctx context.Context) (string, error) {
	if a.opts.DeviceID != "" {
		return a.opts.DeviceID, nil
	}
	if a.d.Inventory == nil {
		return "", fmt.Errorf("rdfm %s: no device_id configured and no inventory to pick a MAC from", a.d.Server.Name)
	}
	inv, err := inventory.Partial(ctx, a.d.Inventory, inventory.CategoryNetwork)
	if err != nil {
		return "", fmt.Errorf("rdfm %s: network inventory for the device MAC: %w", a.d.Server.Name, err)
	}
	nets := append(inv.Networks[:0:0], inv.Networks...)
	sort.Slice(nets, func(i, j int) bool { return nets[i].Name < nets[j].Name })
	for _, n := range nets {
		m := strings.ToLower(strings.ReplaceAll(n.MAC, "-", ":"))
		if n.Virtual || n.Type == "loopback" || n.Type == "virtual" || n.Type == "bridge" || n.Type == "tunnel" || !macRe.Get().MatchString(m) || m == "00:00:00:00:00:00" {
			continue
		}
		return m, nil
	}
	return "", fmt.Errorf("rdfm %s: no physical network interface with a MAC; set device_id", a.d.Server.Name)
}

// metadata is the flat metadata dict (values string or []string only).
func (a *Adapter) metadata() map[string]any {
	m := map[string]any{}
	for k, v := range a.opts.Metadata {
		m[k] = v
	}
	dt := a.opts.DeviceType
	if dt == "" {
		dt = "omniagent-" + runtime.GOOS + "-" + runtime.GOARCH
	}
	m["rdfm.software.version"] = a.st.SoftwareVersion
	m["rdfm.hardware.devtype"] = dt
	m["rdfm.hardware.macaddr"] = a.st.MAC
	if len(a.opts.Tags) > 0 {
		m["rdfm.software.tags"] = a.opts.Tags
	}
	return m
}

// SignBody signs the exact body bytes: base64(RSASSA-PKCS1-v1_5(SHA-256(body))).
func SignBody(k *rsa.PrivateKey, body []byte) (string, error) {
	h := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("sign auth body: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// currentToken is the token to send ("" when none).
func (a *Adapter) currentToken() string {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	return a.token
}

// dropToken forgets tok (rejected by the server) unless a newer one replaced it already.
func (a *Adapter) dropToken(tok string) {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	if a.token == tok {
		a.token = ""
	}
}

// tokenFresh: re-auth when elapsed ≥ expires − max(10 s, 10 %). Call with tokMu held.
func (a *Adapter) tokenFresh() bool {
	if a.token == "" {
		return false
	}
	margin := max(10*time.Second, a.tokTTL/10)
	return time.Since(a.tokAt) < a.tokTTL-margin
}

// maxTokenLifetime caps the server's "expires": the socket and update check re-authenticate
// on 401 anyway, so a shorter life than announced costs one request a day.
const maxTokenLifetime = 24 * time.Hour

// ensureToken gets a token unless the current one is fresh and is not rejected (the token the
// server refused, "" when none was). One refresh runs at a time; callers waiting for it use its
// token. It must be called without mu held (it takes mu briefly to read the device's state).
func (a *Adapter) ensureToken(ctx context.Context, rejected string) error {
	if rejected != "" {
		a.dropToken(rejected)
	}
	usable := func() bool {
		a.tokMu.Lock()
		defer a.tokMu.Unlock()
		return a.tokenFresh()
	}
	if usable() {
		return nil // no wait behind a refresh someone else runs
	}
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if usable() {
		return nil // refreshed while we waited
	}
	a.mu.Lock()
	body, err := json.Marshal(map[string]any{"metadata": a.metadata(), "public_key": a.st.PublicKey, "timestamp": a.now().Unix()})
	key, mac := a.key, a.st.MAC
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("rdfm %s: encode auth body: %w", a.d.Server.Name, err)
	}
	sig, err := SignBody(key, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base.String()+"/api/v1/auth/device", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("rdfm %s: auth request: %w", a.d.Server.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-RDFM-Device-Signature", sig)
	start := time.Now()
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("rdfm %s: auth: %w", a.d.Server.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("rdfm %s: auth: read answer: %w", a.d.Server.Name, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		var ok struct {
			Expires int64  `json:"expires"`
			Token   string `json:"token"`
		}
		if err := json.Unmarshal(raw, &ok); err != nil {
			return fmt.Errorf("rdfm %s: auth: malformed answer %q: %w", a.d.Server.Name, trim(raw), err)
		}
		if ok.Token == "" || ok.Expires <= 0 {
			return fmt.Errorf("rdfm %s: auth: malformed answer %q: want a token and a positive expires", a.d.Server.Name, trim(raw))
		}
		// Compared in seconds: a huge expires would overflow to a negative lifetime and make
		// every token stale at once.
		ttl := maxTokenLifetime
		if ok.Expires < int64(maxTokenLifetime/time.Second) {
			ttl = time.Duration(ok.Expires) * time.Second
		}
		a.tokMu.Lock()
		a.token, a.tokAt, a.tokTTL = ok.Token, start, ttl
		a.tokMu.Unlock()
		a.log.Debug("rdfm: authenticated", "expires", ok.Expires)
		return nil
	case http.StatusUnauthorized:
		a.log.Info("rdfm: device not accepted yet", "mac", mac)
		return fmt.Errorf("rdfm %s: %w", a.d.Server.Name, ErrPending)
	case http.StatusBadRequest:
		a.log.Error("rdfm: server refused the auth request (signing or metadata bug)", "answer", trim(raw))
		return fmt.Errorf("rdfm %s: auth refused (400): %s", a.d.Server.Name, trim(raw))
	default:
		return fmt.Errorf("rdfm %s: auth: HTTP %d: %s", a.d.Server.Name, resp.StatusCode, trim(raw))
	}
}

func trim(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// authorized builds a device-route request with the token header (Bearer token=<jwt>).
func (a *Adapter) authorized(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer token="+a.currentToken())
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// pkg is a 200 answer of update/check.
type pkg struct {
	ID      int64  `json:"id"`
	Created string `json:"created"`
	SHA256  string `json:"sha256"`
	URI     string `json:"uri"`
	// Version is the package's rdfm.software.version when the server says it (the RDFM
	// server of 2026-06 does not: then only the install command's output can tell).
	Version     string `json:"version"`
	MetaVersion string `json:"rdfm.software.version"`
}

var hexRe = &lazyre.Regexp{Expr: `^[0-9a-f]{64}$`}

// checkUpdate runs one update check and, when a package is offered, downloads and installs
// it. updMu is held; a.mu is taken only around state and token use, never across the
// download or the install command.
func (a *Adapter) checkUpdate(ctx context.Context) (protocols.Result, error) {
	a.mu.Lock()
	body, err := json.Marshal(a.metadata())
	mac := a.st.MAC
	a.mu.Unlock()
	if err != nil {
		return protocols.Result{}, fmt.Errorf("rdfm %s: encode metadata: %w", a.d.Server.Name, err)
	}
	var resp *http.Response
	var raw []byte
	for attempt := 0; ; attempt++ {
		sent := a.currentToken()
		req, err := a.authorized(ctx, http.MethodPost, "/api/v1/update/check", body)
		if err != nil {
			return protocols.Result{}, fmt.Errorf("rdfm %s: update check request: %w", a.d.Server.Name, err)
		}
		resp, err = a.client.Do(req)
		if err != nil {
			return protocols.Result{}, fmt.Errorf("rdfm %s: update check: %w", a.d.Server.Name, err)
		}
		raw, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return protocols.Result{}, fmt.Errorf("rdfm %s: update check: read answer: %w", a.d.Server.Name, err)
		}
		// 401: token expired server-side; 500 "does not match any device": removed, re-auth.
		removed := resp.StatusCode == http.StatusInternalServerError && bytes.Contains(raw, []byte("does not match any device"))
		if (resp.StatusCode == http.StatusUnauthorized || removed) && attempt == 0 {
			err := a.auth(ctx, sent)
			if err != nil {
				return a.pendingResult(mac, err)
			}
			continue
		}
		break
	}
	a.mu.Lock()
	details := map[string]string{"registration": "accepted", "version": a.st.SoftwareVersion, "device": a.st.MAC}
	a.mu.Unlock()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return protocols.Result{Summary: "no update", Details: details}, nil
	case http.StatusOK:
	default:
		return protocols.Result{}, fmt.Errorf("rdfm %s: update check: HTTP %d: %s", a.d.Server.Name, resp.StatusCode, trim(raw))
	}
	var p pkg
	if err := json.Unmarshal(raw, &p); err != nil {
		return protocols.Result{}, fmt.Errorf("rdfm %s: update check answer: %w", a.d.Server.Name, err)
	}
	p.SHA256 = strings.ToLower(p.SHA256)
	if p.Version == "" {
		p.Version = p.MetaVersion
	}
	if !hexRe.Get().MatchString(p.SHA256) || p.URI == "" {
		return protocols.Result{}, fmt.Errorf("rdfm %s: update check answer lacks a valid sha256/uri: %q", a.d.Server.Name, trim(raw))
	}
	key := strconv.FormatInt(p.ID, 10) + ":" + p.SHA256
	a.mu.Lock()
	f, failed := a.st.Failed[key]
	a.mu.Unlock()
	if failed && a.now().Before(f.Until) {
		details["update"] = fmt.Sprintf("package %d skipped after %d failed install(s) until %s", p.ID, f.Count, f.Until.UTC().Format(time.RFC3339))
		return protocols.Result{Summary: "update skipped (cool-down)", Details: details}, nil
	}
	if len(a.opts.InstallCommand) == 0 && a.d.SelfUpdate == nil {
		details["update"] = fmt.Sprintf("package %d offered; no install_command configured", p.ID)
		return protocols.Result{Summary: "update offered, not installed", Details: details}, nil
	}
	newVer, err := a.install(ctx, p)
	if errors.Is(err, errNoInstallCommand) {
		// Downloaded to see whether it is an omniagent release: it is not. Not again for a while.
		a.mu.Lock()
		a.recordFailure(key)
		a.mu.Unlock()
		details["update"] = fmt.Sprintf("package %d offered; it is not an omniagent release and no install_command is configured", p.ID)
		return protocols.Result{Summary: "update offered, not installed", Details: details}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.rep.abandon()
		a.recordFailure(key)
		if ctx.Err() == nil { // the update check worked; the package did not install
			err = protocols.JobFailure(err)
		}
		return protocols.Result{Summary: fmt.Sprintf("package %d failed", p.ID), Details: details}, fmt.Errorf("rdfm %s: package %d: %w", a.d.Server.Name, p.ID, err)
	}
	delete(a.st.Failed, key)
	if newVer == "" {
		// Installed, but neither the command nor the server says which version that is: the
		// server would offer the same package forever, so skip it for the cool-down.
		a.rep.abandon()
		a.recordFailure(key)
		details["update"] = fmt.Sprintf("package %d installed but its version is unknown: install_command printed no rdfm.software.version= line and the server did not say; skipped until %s",
			p.ID, a.st.Failed[key].Until.UTC().Format(time.RFC3339))
		return protocols.Result{Summary: fmt.Sprintf("package %d installed, version unknown", p.ID), Details: details}, nil
	}
	a.st.SoftwareVersion = newVer
	if err := a.d.State.Save(&a.st); err != nil {
		return protocols.Result{}, fmt.Errorf("rdfm %s: save state: %w", a.d.Server.Name, err)
	}
	// Progress 100 and the version go to the server now, or when the socket is back.
	a.rep.version(newVer)
	go a.flushReports()
	details["version"] = a.st.SoftwareVersion
	return protocols.Result{Summary: fmt.Sprintf("package %d installed (version %s)", p.ID, a.st.SoftwareVersion), Details: details}, nil
}

// recordFailure starts or doubles the package's cool-down; a.mu is held.
func (a *Adapter) recordFailure(key string) {
	if a.st.Failed == nil {
		a.st.Failed = map[string]failure{}
	}
	f := a.st.Failed[key]
	f.Count++
	cool := a.opts.FailedCooldown.D()
	for i := 1; i < f.Count && cool < 30*24*time.Hour; i++ {
		cool *= 2
	}
	f.Until = a.now().Add(cool)
	a.st.Failed[key] = f
	if err := a.d.State.Save(&a.st); err != nil {
		a.log.Error("rdfm: save install failure", "err", err)
	}
}

// errNoInstallCommand: a package that is not an omniagent release, and nothing to install it.
var errNoInstallCommand = errors.New("no install_command configured")

// versionLine is how an install command reports the version it installed.
var versionLine = &lazyre.Regexp{Expr: `(?m)^rdfm\.software\.version=(\S+)\s*$`}

// install downloads (sha256 verified by the runner), sanity-checks and installs a package. The
// new version is taken from the install command's output line "rdfm.software.version=<v>"
// (update/check carries no version).
func (a *Adapter) install(ctx context.Context, p pkg) (string, error) {
	client := a.client
	lastPct := -1
	f, err := a.d.Jobs.Download(ctx, jobs.Download{
		// Download is 0–90 %, the install the rest.
		Progress: func(pr jobs.Progress) {
			if pr.Percent < 0 {
				return
			}
			if pct := int(pr.Percent * 0.9); pct/10 != lastPct/10 {
				lastPct = pct
				a.rep.progress(pct)
				go a.flushReports() // never stall the download on a slow socket
			}
		},
		Client: client,
		// No Authorization: the URI may point at S3.
		NewRequest: func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, p.URI, nil)
		},
		Name:     fmt.Sprintf("rdfm-package-%d", p.ID),
		MaxBytes: int64(a.opts.MaxPackage),
		Want:     &jobs.Hash{Algo: "sha256", Hex: p.SHA256},
		CheckResponse: func(r *http.Response) error {
			if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusPartialContent {
				return fmt.Errorf("package download: HTTP %d", r.StatusCode)
			}
			return nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	defer os.Remove(f.Path)
	if f.Size == 0 {
		return "", errors.New("package is empty")
	}
	if !strings.EqualFold(f.SHA256, p.SHA256) {
		return "", fmt.Errorf("sha256 mismatch: got %s want %s", f.SHA256, p.SHA256)
	}
	if isAgentBundle(f.Path) {
		return a.installAgent(ctx, f.Path)
	}
	if len(a.opts.InstallCommand) == 0 {
		return "", errNoInstallCommand
	}
	argv := make([]string, len(a.opts.InstallCommand))
	r := strings.NewReplacer("{file}", f.Path, "{sha256}", p.SHA256, "{id}", strconv.FormatInt(p.ID, 10))
	for i, s := range a.opts.InstallCommand {
		argv[i] = r.Replace(s)
	}
	res, err := a.d.Jobs.Exec(ctx, jobs.Command{Argv: argv, Timeout: a.opts.InstallTimeout.D(), MaxOutput: 64 << 10})
	if err != nil {
		return "", fmt.Errorf("install command: %w", err)
	}
	if res.TimedOut {
		return "", fmt.Errorf("install command timed out after %s", a.opts.InstallTimeout.D())
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("install command exited with %d: %s", res.ExitCode, trim(res.Output))
	}
	if m := versionLine.Get().FindSubmatch(res.Output); m != nil {
		return string(m[1]), nil
	}
	// Exit 0 without a version line: the package's own version is now installed.
	if p.Version != "" {
		return p.Version, nil
	}
	a.log.Warn("rdfm: install command printed no rdfm.software.version= line and the server gave no version; version unchanged", "package", p.ID)
	return "", nil
}
