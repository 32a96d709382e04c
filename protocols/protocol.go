// Package protocols is the adapter contract and the registry of server kinds. An adapter lives
// in protocols/<name> and is added to the binary's registry by one line in protocols/all.
package protocols

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/state"
)

// Result is what one cycle reports to the scheduler.
type Result struct {
	// Next is when the server wants the next cycle (GLPI expiration, RDFM retry interval...).
	// Zero means the server's configured interval.
	Next time.Duration
	// Summary is one short line for --oneshot and the log ("inventory sent", "2 jobs run").
	Summary string
	// Details are shown by `omniagent status` ("waiting for acceptance", groups, users).
	Details map[string]string
	// JobsFailed counts the jobs, packages or deploys of this cycle that failed while the
	// exchanges with the server worked. When zero, the scheduler counts the JobFailure errors
	// of the cycle's error instead.
	JobsFailed int
}

// Adapter is one configured server. Cycle runs one exchange with the server (a poll); it must
// honour ctx and return, never loop on its own.
type Adapter interface {
	Cycle(ctx context.Context) (Result, error)
}

// Session is implemented by adapters that also hold a long-lived connection (RDFM management
// WebSocket, MIG relay). Serve runs until ctx ends, reconnecting with back-off itself; the
// scheduler runs it beside the poll loop in the daemon and never in --oneshot, where Cycle
// connects, drains what is pending and disconnects.
type Session interface {
	Serve(ctx context.Context) error
}

// Closer is implemented by adapters that hold resources to release at shutdown.
type Closer interface {
	Close(ctx context.Context) error
}

// Options tweak a run from the command line.
type Options struct {
	Oneshot     bool
	ForceUpdate bool // `--oneshot --force-update`: send the full inventory whatever the server says
}

// Deps is everything an adapter may use. Nothing is global.
type Deps struct {
	Server    config.Server
	Config    *config.Config
	Logger    *slog.Logger
	Identity  identity.Identity
	Inventory inventory.Provider
	Jobs      *jobs.Runner // scoped to this server's policy and spool folder
	State     *state.Handle
	// HTTP builds this server's client (TLS, proxy, timeouts, User-Agent, size limit).
	HTTP    HTTPFactory
	Options Options
	// Now is the clock; tests replace it.
	Now func() time.Time
	// RunNow asks the running daemon for a cycle of this server now, without waiting for it
	// (GLPI's "Request inventory"). Nil outside the daemon.
	RunNow func(Request) error
	// SelfUpdate installs a signed agent binary in place of the running one (verified against
	// the keys pinned in [update]) and returns its version; nil when self-update is off. The
	// agent restarts into it once the current cycles end.
	SelfUpdate SelfUpdater
}

// SelfUpdater installs binary, signed by the detached minisign signature file.
type SelfUpdater func(ctx context.Context, binary, signature string) (version string, err error)

// HeartbeatBackoffIntervals caps a heartbeat protocol's back-off, in heartbeat periods.
const HeartbeatBackoffIntervals = 3

// Interval is the effective interval of a server of this protocol: the heartbeat period when
// the protocol has one, else configured, else DefaultInterval, else 0. heartbeat says which.
func (p Protocol) Interval(configured time.Duration, opts any) (d time.Duration, heartbeat bool) {
	if p.Heartbeat != nil {
		if d := p.Heartbeat(opts); d > 0 {
			return d, true
		}
	}
	if configured > 0 {
		return configured, false
	}
	return p.DefaultInterval, false
}

// HTTPFactory builds the server's HTTP client; forceHTTP1 is for servers that need HTTP/1.1.
type HTTPFactory func(forceHTTP1 bool) (*http.Client, error)

// Protocol is a registered server kind.
type Protocol struct {
	Name string
	// NewOptions returns a pointer to a fresh options struct with its defaults, into which the
	// protocol-specific keys of a [[server]] table are decoded. Nil when there are none.
	NewOptions func() any
	// DefaultInterval is used when the server table has no interval.
	DefaultInterval time.Duration
	// Heartbeat, when set, marks a heartbeat protocol and gives its period from the decoded
	// options (MIG: heartbeat_interval). That period is the server's effective interval (it
	// wins over interval), the first cycle runs at start, and the back-off after failures is
	// capped at HeartbeatBackoffIntervals periods so the server hears from us soon again.
	Heartbeat func(opts any) time.Duration
	// New builds the adapter.
	New func(Deps) (Adapter, error)
	// FormatInventory renders the inventory exactly as this protocol would send it, for
	// `omniagent inventory --format <protocol>`. Nil when the protocol sends no inventory.
	FormatInventory func(ctx context.Context, inv *inventory.Inventory, id identity.Identity) ([]byte, error)
}

// Registry holds the known protocols.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Protocol
	// lazy are protocols added by name whose description is built on first lookup, so a
	// protocol no server uses costs nothing at start (not even a page of its code).
	lazy map[string]func() Protocol
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{m: map[string]Protocol{}, lazy: map[string]func() Protocol{}}
}

// Add registers the protocol name, described by build when first looked up; build must return
// a Protocol of that name. Adding a name twice is a programming error.
func (r *Registry) Add(name string, build func() Protocol) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" || build == nil {
		panic("protocols: Add needs a name and a builder")
	}
	if r.known(name) {
		panic(fmt.Sprintf("protocols: %q registered twice", name))
	}
	r.lazy[name] = build
}

func (r *Registry) known(name string) bool {
	_, built := r.m[name]
	_, lazy := r.lazy[name]
	return built || lazy
}

// Register adds a protocol; registering a name twice is a programming error.
func (r *Registry) Register(p Protocol) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Name == "" || p.New == nil {
		panic("protocols: Register needs a name and a constructor")
	}
	if r.known(p.Name) {
		panic(fmt.Sprintf("protocols: %q registered twice", p.Name))
	}
	r.m[p.Name] = p
}

// Lookup finds a protocol by name.
func (r *Registry) Lookup(name string) (Protocol, bool) {
	r.mu.RLock()
	p, ok := r.m[name]
	build := r.lazy[name]
	r.mu.RUnlock()
	if ok || build == nil {
		return p, ok
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.m[name]; ok {
		return p, true
	}
	p = build()
	if p.Name != name || p.New == nil {
		panic(fmt.Sprintf("protocols: the builder added as %q returned %q (or no constructor)", name, p.Name))
	}
	r.m[name] = p
	delete(r.lazy, name)
	return p, true
}

// Names lists the registered protocols, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m)+len(r.lazy))
	for n := range r.m {
		out = append(out, n)
	}
	for n := range r.lazy {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewOptions satisfies config.Protocols.
func (r *Registry) NewOptions(name string) (any, bool) {
	p, ok := r.Lookup(name)
	if !ok {
		return nil, false
	}
	if p.NewOptions == nil {
		return nil, true
	}
	return p.NewOptions(), true
}

// ShutdownHook is implemented by adapters that act when the operating system shuts down (not
// on a plain service stop). The agent calls it once, bounded by the adapter's own timeout.
type ShutdownHook interface {
	OnSystemShutdown(ctx context.Context) error
}

// Uninstaller is implemented by adapters that act when the agent is uninstalled (opt-in).
type Uninstaller interface {
	OnUninstall(ctx context.Context) error
}
