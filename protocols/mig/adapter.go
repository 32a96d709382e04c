// Package mig is the agent side of MIG (Mozilla InvestiGator): a RabbitMQ relay client that
// takes signed actions from the agent's queue, has package action verify and run them, and
// publishes the results; plus the heartbeats (HTTP to the API, or legacy AMQP).
// Protocol notes: shared/protocols/mig.md.
package mig

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig/action"
	"github.com/omniagent/omniagent/protocols/mig/modules"
	"github.com/omniagent/omniagent/protocols/mig/modules/builtin"
	"github.com/omniagent/omniagent/version"
)

// Name is the protocol name in agent.toml.
const Name = "mig"

// Protocol describes MIG for the registry. The poll cycle is the heartbeat: its period,
// heartbeat_interval, is the server's effective interval (Heartbeat).
func Protocol() protocols.Protocol {
	return protocols.Protocol{
		Name:            Name,
		NewOptions:      func() any { return NewOptions() },
		DefaultInterval: 300 * time.Second,
		Heartbeat: func(o any) time.Duration {
			if opts, ok := o.(*Options); ok && opts != nil {
				return opts.HeartbeatInterval.D()
			}
			return NewOptions().HeartbeatInterval.D()
		},
		New: func(d protocols.Deps) (protocols.Adapter, error) { return New(d) },
	}
}

// Adapter is one configured MIG relay and API.
type Adapter struct {
	d       protocols.Deps
	opts    *Options
	log     *slog.Logger
	client  *http.Client // nil when the API is not used
	api     *url.URL     // API base (…/api/v1); nil with AMQP heartbeats and no url
	tls     *tls.Config  // amqps only
	proxy   *url.URL     // relay_proxy, nil for direct
	modules modules.Registry
	now     func() time.Time

	// Identity sent to MIG.
	goos, goarch, name, version string
	pid                         int
	started                     time.Time

	prepMu   sync.Mutex
	prepared bool
	queueLoc string
	verifier *action.Verifier

	envMu sync.Mutex
	env   environment

	liveMu sync.Mutex
	live   *relayConn // the daemon session's connection, used by AMQP heartbeats

	stMu       sync.Mutex
	relayState string
	lastHB     time.Time
	lastHBErr  error

	handled   atomic.Int64
	published atomic.Int64
	sessions  atomic.Int64 // relay connections established by Serve
	outbox    *outbox
	slots     chan struct{}
	junk      *junkWarner // folds the WARN lines of refused commands

	// Timing, replaced by tests.
	dialTimeout, drainIdle, backoffBase, backoffMax time.Duration
	// setupTimeout bounds the relay set-up after the AMQP handshake (channel, confirms,
	// queue): the server's request_timeout.
	setupTimeout time.Duration
}

// New builds the adapter.
func New(d protocols.Deps) (*Adapter, error) {
	opts, _ := d.Server.Options.(*Options)
	if opts == nil {
		opts = NewOptions()
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mig %s: %w", d.Server.Name, err)
	}
	if d.State == nil {
		return nil, fmt.Errorf("mig %s: State is required", d.Server.Name)
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("server", d.Server.Name)
	now := d.Now
	if now == nil {
		now = time.Now
	}
	spool, err := d.State.SpoolDir()
	if err != nil {
		return nil, fmt.Errorf("mig %s: %w", d.Server.Name, err)
	}
	outboxPath := filepath.Join(spool, "results.json")
	a := &Adapter{
		d: d, opts: opts, log: log, now: now,
		modules: builtin.Registry(d.Inventory),
		goos:    runtime.GOOS, goarch: runtime.GOARCH, pid: os.Getpid(), started: now(),
		outbox:       newOutbox(opts.MaxPendingResults, log, outboxPath),
		slots:        make(chan struct{}, maxConcurrent),
		relayState:   "not connected yet",
		dialTimeout:  d.Server.Timeout.Or(defaultDialTimeout),
		setupTimeout: d.Server.RequestTimeout.Or(2 * time.Minute),
		junk:         &junkWarner{log: log, now: now},
		drainIdle:    drainIdle,
		backoffBase:  time.Second,
		backoffMax:   2 * time.Minute,
	}
	a.name = d.Identity.Hostname
	if a.name == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("mig %s: hostname: %w", d.Server.Name, err)
		}
		a.name = h
	}
	a.version = d.Identity.AgentVersion
	if a.version == "" {
		a.version = version.Version
	}
	if len(a.version) > 128 {
		a.version = a.version[:128]
	}
	if d.Server.URL != "" {
		u, err := url.Parse(strings.TrimRight(d.Server.URL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("mig %s: url %q must be the MIG API base, http(s)://host/api/v1", d.Server.Name, d.Server.URL)
		}
		a.api = u
	}
	if opts.HeartbeatTransport == HeartbeatHTTP && a.api == nil {
		return nil, fmt.Errorf("mig %s: url (the MIG API, https://host/api/v1) is required for heartbeat_transport = %q", d.Server.Name, HeartbeatHTTP)
	}
	// The API also gives AMQP heartbeats their publicip (GET {url}/ip), as for HTTP ones.
	if a.api != nil {
		if d.HTTP == nil {
			return nil, fmt.Errorf("mig %s: HTTP is required", d.Server.Name)
		}
		c, err := d.HTTP(false)
		if err != nil {
			return nil, fmt.Errorf("mig %s: http client: %w", d.Server.Name, err)
		}
		a.client = c
	}
	if opts.RelayProxy != "" {
		a.proxy, _ = url.Parse(opts.RelayProxy) // validated above
	}
	if strings.HasPrefix(strings.ToLower(opts.Relay), "amqps:") {
		cfg, err := httpclient.TLSConfig(httpclient.Options{
			Server: d.Server.Name, CAFile: d.Server.CAFile, ClientCert: d.Server.ClientCert,
			ClientKey: d.Server.ClientKey, InsecureSkipVerify: d.Server.InsecureSkipVerify,
		})
		if err != nil {
			return nil, fmt.Errorf("mig %s: relay TLS: %w", d.Server.Name, err)
		}
		a.tls = cfg
	}
	return a, nil
}

// prepare loads what every exchange needs once: the queueloc, the keyring and the ACL.
func (a *Adapter) prepare(context.Context) error {
	a.prepMu.Lock()
	defer a.prepMu.Unlock()
	if a.prepared {
		return nil
	}
	ql, err := a.loadQueueLoc()
	if err != nil {
		return err
	}
	keys, err := action.LoadKeyringDir(a.opts.KeyringDir, a.log)
	if err != nil {
		// A folder we cannot read must not silently become "accept nothing" forever: say so.
		return fmt.Errorf("mig %s: keyring: %w", a.d.Server.Name, err)
	}
	acl := action.DenyAllACL()
	if !a.opts.OnlyVerifyPubkey {
		acl = action.LoadACLFile(a.opts.ACLFile, a.log)
	}
	a.queueLoc = ql
	a.verifier = &action.Verifier{Keyring: keys, ACL: acl, OnlyVerifyPubKey: a.opts.OnlyVerifyPubkey, Now: a.now}
	a.prepared = true
	a.log.Info("mig: agent ready", "queue", queuePrefix+ql, "keys", len(keys), "modules", strings.Join(a.modules.Names(), ","))
	return nil
}

func (a *Adapter) queueName() string { return queuePrefix + a.queueLoc }

// engine is the verifier/executor for one command.
func (a *Adapter) engine() (*action.Engine, error) {
	a.prepMu.Lock()
	defer a.prepMu.Unlock()
	if !a.prepared {
		return nil, errors.New("mig: adapter not prepared")
	}
	return &action.Engine{
		Verifier:       a.verifier,
		Modules:        a.modules,
		Logger:         a.log,
		Now:            a.now,
		DefaultTimeout: a.opts.ModuleTimeout.D(),
		QueueLoc:       a.queueLoc,
	}, nil
}

// Cycle is the heartbeat. With --oneshot or checkin = true it is a full check-in run: connect,
// heartbeat, drain the queue, run and answer what was waiting, disconnect.
func (a *Adapter) Cycle(ctx context.Context) (protocols.Result, error) {
	if err := a.prepare(ctx); err != nil {
		return protocols.Result{}, err
	}
	a.junk.flush()
	if a.d.Options.Oneshot || a.opts.Checkin {
		taken, hbErr, err := a.drain(ctx)
		summary := fmt.Sprintf("%d command(s) taken from %s", taken, a.queueName())
		if hbErr == nil && err == nil {
			summary = "heartbeat sent, " + summary
		}
		return a.cycleResult(summary, errors.Join(hbErr, err))
	}
	if err := a.heartbeat(ctx); err != nil {
		return a.cycleResult("heartbeat failed", err)
	}
	return a.result("heartbeat sent"), nil
}

// cycleResult is the result of a cycle ending with err. A failed one has no Next: the
// scheduler's back-off (capped at a few heartbeat periods) decides, so the retry comes in a
// minute, not a whole period later.
func (a *Adapter) cycleResult(summary string, err error) (protocols.Result, error) {
	res := a.result(summary)
	if err != nil {
		res.Next = 0
	}
	return res, err
}

// heartbeat refreshes the environment when due and sends one heartbeat over the configured
// transport.
func (a *Adapter) heartbeat(ctx context.Context) (err error) {
	defer func() {
		a.stMu.Lock()
		a.lastHBErr = err
		if err == nil {
			a.lastHB = a.now()
		}
		a.stMu.Unlock()
	}()
	if err := a.refreshEnv(ctx); err != nil {
		return err
	}
	if a.opts.HeartbeatTransport == HeartbeatHTTP {
		return a.postHeartbeat(ctx)
	}
	body, err := json.Marshal(a.buildLegacyHeartbeat())
	if err != nil {
		return fmt.Errorf("mig %s: encode heartbeat: %w", a.d.Server.Name, err)
	}
	rc := a.getLive()
	if rc == nil {
		// No standing session (starting, reconnecting): a short connection of its own.
		if rc, err = a.connect(ctx, false); err != nil {
			return err
		}
		defer rc.close()
	}
	return a.publish(ctx, rc, keyHeartbeats, body)
}

// result builds the cycle result with the status details.
func (a *Adapter) result(summary string) protocols.Result {
	a.stMu.Lock()
	defer a.stMu.Unlock()
	det := map[string]string{
		"queue":             a.queueName(),
		"mode":              a.mode(),
		"relay":             a.relayState,
		"commands_handled":  strconv.FormatInt(a.handled.Load(), 10),
		"results_published": strconv.FormatInt(a.published.Load(), 10),
		"results_pending":   strconv.Itoa(a.outbox.len()),
		"relay_connections": strconv.FormatInt(a.sessions.Load(), 10),
	}
	hb := "never"
	if !a.lastHB.IsZero() {
		hb = a.lastHB.UTC().Format(time.RFC3339) + " over " + a.opts.HeartbeatTransport
	}
	if a.lastHBErr != nil {
		hb += " (last attempt failed: " + a.lastHBErr.Error() + ")"
	}
	det["last_heartbeat"] = hb
	a.envMu.Lock()
	if a.env.publicIP != "" {
		det["public_ip"] = a.env.publicIP
	}
	a.envMu.Unlock()
	return protocols.Result{Next: a.opts.HeartbeatInterval.D(), Summary: summary, Details: det}
}

func (a *Adapter) setLive(rc *relayConn) {
	a.liveMu.Lock()
	a.live = rc
	a.liveMu.Unlock()
}

func (a *Adapter) getLive() *relayConn {
	a.liveMu.Lock()
	defer a.liveMu.Unlock()
	return a.live
}

func (a *Adapter) setRelayState(s string) {
	a.stMu.Lock()
	a.relayState = s
	a.stMu.Unlock()
}
