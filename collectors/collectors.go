// Package collectors reads the machine into the common inventory model. Each category is an
// independent collector with its own deadline; a failing or hanging one is reported in the
// metadata and never blocks the others. The result is cached so servers share one collection.
package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/mainstack"
	"github.com/omniagent/omniagent/version"
)

// Options configure collection.
type Options struct {
	Identity        identity.Identity
	Disable         []string
	CategoryTimeout time.Duration
	TTL             time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
}

// Category is one collector: it fills its part of inv. It must honour ctx.
type Category struct {
	Name    string
	Collect func(ctx context.Context, inv *inventory.Inventory) error
	// MinTimeout raises the configured category_timeout for a source known to be slow on its
	// first run (macOS system_profiler with applications takes tens of seconds).
	MinTimeout time.Duration
	// First starts the category before the others. The categories share the CPUs (a laptop's
	// two, a VM's one), and a long one started last would run alone at the end: starting the
	// longest first keeps the CPUs busy until the end (the collection lasts about as long as
	// its total work over the CPUs).
	First bool
}

// Cached is the inventory provider: collects on demand, reuses a result younger than TTL.
type Cached struct {
	o    Options
	cats []Category
	mu   sync.Mutex
	last *inventory.Inventory
	at   time.Time
	// partial holds the last collection of each set of categories asked for alone (one set
	// per caller: a hello's, a heartbeat's), under the same TTL.
	partial map[string]partialInv
}

type partialInv struct {
	inv *inventory.Inventory
	at  time.Time
}

// New returns a provider with this OS's categories. They are listed on the first
// collection: a daemon with no server never touches the collectors' code.
func New(o Options) *Cached {
	return &Cached{o: o.withDefaults()}
}

func (o Options) withDefaults() Options {
	if o.CategoryTimeout <= 0 {
		o.CategoryTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Inventory returns the cached inventory or collects a new one. Callers must not modify it.
func (c *Cached) Inventory(ctx context.Context) (*inventory.Inventory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && c.fresh(c.at) {
		return c.last, nil
	}
	inv, err := Collect(ctx, c.o, c.list())
	if err != nil {
		return nil, err
	}
	c.last, c.at = inv, c.o.Now()
	return inv, nil
}

// Partial returns the categories named, collected alone, or the full inventory while the
// cached one is fresh. Unknown names are ignored; disabled categories stay skipped.
func (c *Cached) Partial(ctx context.Context, names ...string) (*inventory.Inventory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && c.fresh(c.at) {
		return c.last, nil
	}
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	key := strings.Join(names, ",")
	if p, ok := c.partial[key]; ok && c.fresh(p.at) {
		return p.inv, nil
	}
	var cats []Category
	for _, cat := range c.list() {
		if slices.Contains(names, cat.Name) {
			cats = append(cats, cat)
		}
	}
	inv, err := Collect(ctx, c.o, cats)
	if err != nil {
		return nil, err
	}
	if c.partial == nil {
		c.partial = map[string]partialInv{}
	}
	c.partial[key] = partialInv{inv, c.o.Now()}
	return inv, nil
}

// fresh says whether a collection made at `at` may still be served (within TTL).
func (c *Cached) fresh(at time.Time) bool {
	return c.o.TTL > 0 && c.o.Now().Sub(at) < c.o.TTL
}

// list is this OS's categories, listed on first use.
func (c *Cached) list() []Category {
	if c.cats == nil {
		c.cats = categories()
	}
	return c.cats
}

// Collect runs every category concurrently, each under its own deadline.
func Collect(ctx context.Context, o Options, cats []Category) (*inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collect inventory: %w", err)
	}
	o = o.withDefaults()
	start := time.Now()
	ctx = withShared(ctx)
	disabled := map[string]bool{}
	for _, d := range o.Disable {
		disabled[d] = true
	}
	inv := &inventory.Inventory{}
	inv.Meta.AgentVersion = version.Version
	inv.System.Hostname = o.Identity.Hostname
	inv.System.FQDN = o.Identity.FQDN
	inv.System.MachineUID = o.Identity.MachineUID

	type done struct {
		res  inventory.CategoryResult
		part *inventory.Inventory
	}
	results := make(chan done, len(cats))
	var running int
	order := make([]Category, 0, len(cats))
	for _, first := range []bool{true, false} {
		for _, cat := range cats {
			if cat.First == first {
				order = append(order, cat)
			}
		}
	}
	for _, cat := range order {
		if disabled[cat.Name] {
			inv.Meta.Categories = append(inv.Meta.Categories, inventory.CategoryResult{Name: cat.Name, Skipped: true})
			continue
		}
		running++
		go func() {
			limit := max(o.CategoryTimeout, cat.MinTimeout)
			cctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			t0 := time.Now()
			part := &inventory.Inventory{}
			// Categories that derive names (domain from the FQDN) start from the identity.
			part.System.Hostname, part.System.FQDN = o.Identity.Hostname, o.Identity.FQDN
			errc := make(chan error, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						errc <- fmt.Errorf("collector panicked: %v", p)
					}
				}()
				mainstack.Grow()
				errc <- cat.Collect(cctx, part)
			}()
			out := part
			r := inventory.CategoryResult{Name: cat.Name}
			select {
			case err := <-errc:
				if err != nil {
					r.Error = err.Error()
				}
			case <-cctx.Done():
				// The collector may still be blocked (WMI, dead NFS): leave it and drop its part.
				r.TimedOut, r.Error, out = true, "timed out after "+limit.String(), nil
				if ctx.Err() != nil {
					r.Error = "collection cancelled: " + ctx.Err().Error()
				}
			}
			r.Duration = time.Since(t0).Seconds()
			results <- done{r, out}
		}()
	}
	parts := make(map[string]*inventory.Inventory, running)
	for range running {
		d := <-results
		inv.Meta.Categories = append(inv.Meta.Categories, d.res)
		if d.part != nil {
			parts[d.res.Name] = d.part
		}
		if d.res.Error != "" {
			o.Logger.Debug("inventory category failed", "category", d.res.Name, "err", d.res.Error)
		}
	}
	// Merge in category order so the result does not depend on timing.
	for _, cat := range cats {
		if p := parts[cat.Name]; p != nil {
			merge(inv, p)
		}
	}
	sort.Slice(inv.Meta.Categories, func(i, j int) bool { return inv.Meta.Categories[i].Name < inv.Meta.Categories[j].Name })
	inv.Meta.CollectedAt = o.Now().UTC()
	inv.Meta.Duration = time.Since(start).Seconds()
	return inv, nil
}

// sharedKey carries one collection's shared reads (withShared) in the context.
type sharedKey struct{}

// sharedReads holds data several categories need (pci.ids feeds controllers, gpu, network,
// sounds and modems), read once per collection instead of once per category.
type sharedReads struct {
	mu   sync.Mutex
	vals map[string]func() any
}

func withShared(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedKey{}, &sharedReads{vals: map[string]func() any{}})
}

// shared returns load's result, computed once per collection when ctx comes from Collect and
// on every call otherwise (a category run alone).
func shared[T any](ctx context.Context, name string, load func() T) T {
	s, _ := ctx.Value(sharedKey{}).(*sharedReads)
	if s == nil {
		return load()
	}
	s.mu.Lock()
	f, ok := s.vals[name]
	if !ok {
		f = sync.OnceValue(func() any { return load() })
		s.vals[name] = f
	}
	s.mu.Unlock()
	return f().(T)
}
