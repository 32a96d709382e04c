// Package oco speaks the agent side of OCO (Open Computer Orchestration): the HMAC-signed
// protocol of servers ≥ 1.1.7 and the legacy plaintext-key protocol of older ones, with
// inventory, software jobs, event queries and logins.
package oco

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/localuser"
	"github.com/omniagent/omniagent/protocols"
)

// Name is the protocol name in agent.toml.
const Name = "oco"

// Protocol describes OCO for the registry.
func Protocol() protocols.Protocol {
	return protocols.Protocol{
		Name:            Name,
		NewOptions:      func() any { return NewOptions() },
		DefaultInterval: time.Minute,
		New:             func(d protocols.Deps) (protocols.Adapter, error) { return New(d) },
		FormatInventory: FormatInventory,
	}
}

// Adapter is one configured OCO server.
type Adapter struct {
	d      protocols.Deps
	opts   *Options
	log    *slog.Logger
	client *http.Client
	now    func() time.Time

	hostname, uid string
	// resolver looks up the _oco._tcp SRV record; tests point it at a fake DNS server.
	resolver *net.Resolver

	callMu sync.Mutex // one request at a time keeps timestamps in order
	mu     sync.Mutex // one cycle at a time; guards st
	st     persisted
	loaded bool

	loggedMode string
	// powerPending: a restart/shutdown/exit is scheduled; no further job runs in this process.
	powerPending string
	lastInv      *inventory.Inventory
	lastInvAt    time.Time
	invChanged   bool // the inventory differs from the one last sent
	readEvents   eventReader
	// setPassword changes a local account's password (localuser.SetPassword).
	setPassword func(context.Context, localuser.Change) error
	// crashAfterStore, in tests, stops a rotation after the server stored the password.
	crashAfterStore func() bool
	checks          serviceChecks
}

// New builds the adapter from its dependencies.
func New(d protocols.Deps) (*Adapter, error) {
	opts, _ := d.Server.Options.(*Options)
	if opts == nil {
		opts = NewOptions()
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if d.State == nil || d.Jobs == nil || d.HTTP == nil || d.Inventory == nil {
		return nil, errors.New("oco: Deps needs State, Jobs, HTTP and Inventory")
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	if d.Server.URL != "" {
		if err := checkURL(d.Server.URL, opts.AllowPlainHTTP); err != nil {
			return nil, err
		}
	}
	// HTTP/1.1: the signature header name must reach the server in lower case, verbatim.
	client, err := d.HTTP(true)
	if err != nil {
		return nil, err
	}
	a := &Adapter{d: d, opts: opts, log: log, client: client, now: now, resolver: net.DefaultResolver, setPassword: localuser.SetPassword}
	a.checks.runner = jobs.New(jobs.Options{Server: d.Server.Name, Logger: log, Policy: jobs.Policy{AllowExec: true}, MaxOutput: maxCheckOutput, Timeout: opts.ServiceChecksTimeout.D()})
	a.hostname = d.Identity.Hostname
	switch opts.UID {
	case "none":
	case "":
		a.uid = d.Identity.MachineUID
	default:
		a.uid = opts.UID
	}
	if len(opts.PasswordRotationUsers) > 0 && !opts.PasswordRotation {
		log.Warn("password_rotation_users is set but password_rotation is false: the server may not rotate any password")
	}
	if opts.OCOProtocol == ModeLegacy {
		log.Warn("OCO legacy protocol configured: the agent key travels in clear in every request; use it only for servers ≤ 1.1.6, over HTTPS")
	}
	return a, nil
}

func checkURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("oco: url %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP {
			return nil
		}
		return fmt.Errorf("oco: url %q is plain http: OCO packages carry no digest, so only TLS protects them and the keys; use https, or set allow_plain_http = true to accept the risk", raw)
	}
	return fmt.Errorf("oco: url %q: scheme must be https", raw)
}

func (a *Adapter) save() error {
	if err := a.d.State.Save(a.st); err != nil {
		return fmt.Errorf("oco: save state: %w", err)
	}
	return nil
}

// load reads the state once; a corrupt file stops the adapter (it may hold keys).
func (a *Adapter) load() error {
	if a.loaded {
		return nil
	}
	if _, err := a.d.State.Load(&a.st); err != nil {
		return fmt.Errorf("oco: %w", err)
	}
	if a.opts.ServerKey != "" {
		switch {
		case a.st.ServerKey == "":
			a.st.ServerKey = a.opts.ServerKey
		case a.st.ServerKey != a.opts.ServerKey:
			return fmt.Errorf("oco: server_key in the config differs from the key pinned in %s; a pinned key is never replaced (remove the state file if the server was reinstalled)", a.d.State.Path())
		}
	}
	if a.st.KeyHostname != "" && !strings.EqualFold(a.st.KeyHostname, a.hostname) {
		a.log.Warn("the hostname changed since the server issued the agent key: the server will see a new computer, which only the registration key can register", "was", a.st.KeyHostname, "now", a.hostname)
	}
	a.loaded = true
	return nil
}

// mode is the protocol used for the next request.
func (a *Adapter) mode() string {
	switch a.opts.OCOProtocol {
	case ModeLegacy:
		return ModeLegacy
	case ModeAuto:
		if a.st.Mode == ModeLegacy && !a.st.SignedSeen {
			return ModeLegacy
		}
	}
	return ModeHMAC
}

func (a *Adapter) setMode(m, reason string) {
	a.st.Mode, a.st.ModeReason = m, reason
	_ = a.save()
	a.logMode()
}

func (a *Adapter) logMode() {
	m := a.mode()
	if m == a.loggedMode {
		return
	}
	a.loggedMode = m
	reason := a.st.ModeReason
	if reason == "" || a.opts.OCOProtocol != ModeAuto {
		reason = fmt.Sprintf("configured (oco_protocol = %q)", a.opts.OCOProtocol)
	}
	a.log.Info("OCO protocol in use", "oco_protocol", m, "why", reason, "url", a.st.APIURL)
}

// resolveURL uses the config, or the URL found once through DNS SRV and persisted.
func (a *Adapter) resolveURL(ctx context.Context) error {
	if u := a.d.Server.URL; u != "" {
		if a.st.APIURL != u {
			a.st.APIURL, a.st.URLSource = u, "config"
			return a.save()
		}
		return nil
	}
	if a.st.APIURL != "" && a.st.URLSource == "dns-srv" {
		return nil
	}
	u, err := a.discover(ctx)
	if err != nil {
		return err
	}
	a.st.APIURL, a.st.URLSource = u, "dns-srv"
	a.log.Info("OCO server found through DNS SRV; the URL is kept for later starts", "url", u)
	return a.save()
}
