package collectors

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

func resultOf(t *testing.T, inv *inventory.Inventory, name string) inventory.CategoryResult {
	t.Helper()
	for _, c := range inv.Meta.Categories {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no result for category %q in %+v", name, inv.Meta.Categories)
	return inventory.CategoryResult{}
}

func TestCollectIsolatesCategories(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cats := []Category{
		{Name: "hangs", Collect: func(ctx context.Context, inv *inventory.Inventory) error {
			inv.System.Model = "from the hung collector"
			<-release // ignores ctx, like a WMI query or statfs on a dead NFS server
			return nil
		}},
		{Name: "fails", Collect: func(_ context.Context, inv *inventory.Inventory) error {
			inv.OS.Name = "partial"
			return errors.New("boom")
		}},
		{Name: "panics", Collect: func(context.Context, *inventory.Inventory) error { panic("bad input") }},
		{Name: "works", Collect: func(_ context.Context, inv *inventory.Inventory) error {
			inv.CPUs = []inventory.CPU{{Model: "ok"}}
			return nil
		}},
		{Name: "off", Collect: func(context.Context, *inventory.Inventory) error { t.Error("disabled category ran"); return nil }},
	}
	o := Options{CategoryTimeout: 100 * time.Millisecond, Disable: []string{"off"}, Identity: identity.Identity{Hostname: "h1", FQDN: "h1.example"}}
	start := time.Now()
	inv, err := Collect(context.Background(), o, cats)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("collect took %v: the hung category blocked it", d)
	}
	if r := resultOf(t, inv, "hangs"); !r.TimedOut || r.Error == "" {
		t.Errorf("hangs = %+v", r)
	}
	if inv.System.Model != "" {
		t.Error("a timed-out category's partial data was merged")
	}
	if r := resultOf(t, inv, "fails"); r.Error != "boom" || r.TimedOut {
		t.Errorf("fails = %+v", r)
	}
	if inv.OS.Name != "partial" {
		t.Error("a failed category's partial data was dropped")
	}
	if r := resultOf(t, inv, "panics"); r.Error == "" {
		t.Errorf("panics = %+v", r)
	}
	if r := resultOf(t, inv, "works"); r.Error != "" || len(inv.CPUs) != 1 {
		t.Errorf("works = %+v cpus %v", r, inv.CPUs)
	}
	if r := resultOf(t, inv, "off"); !r.Skipped {
		t.Errorf("off = %+v", r)
	}
	if inv.System.Hostname != "h1" || inv.System.FQDN != "h1.example" || inv.Meta.CollectedAt.IsZero() {
		t.Errorf("identity/meta = %+v %+v", inv.System, inv.Meta)
	}
}

func TestCachedTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runs := 0
	c := New(Options{TTL: time.Minute, Now: func() time.Time { return now }})
	c.cats = []Category{{Name: "count", Collect: func(context.Context, *inventory.Inventory) error { runs++; return nil }}}
	for range 3 {
		if _, err := c.Inventory(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 1 {
		t.Errorf("collected %d times within the TTL", runs)
	}
	now = now.Add(2 * time.Minute)
	if _, err := c.Inventory(context.Background()); err != nil || runs != 2 {
		t.Errorf("after TTL: runs %d err %v", runs, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	now = now.Add(2 * time.Minute)
	if _, err := c.Inventory(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestMergeKeepsCategoryOrder(t *testing.T) {
	dst := &inventory.Inventory{}
	merge(dst, &inventory.Inventory{Software: []inventory.Software{{Name: "a"}}, System: inventory.System{Model: "m"}})
	merge(dst, &inventory.Inventory{Software: []inventory.Software{{Name: "b"}}, System: inventory.System{Serial: "s"}})
	if len(dst.Software) != 2 || dst.Software[1].Name != "b" || dst.System.Model != "m" || dst.System.Serial != "s" {
		t.Errorf("merged = %+v", dst)
	}
}

// A category with a MinTimeout above category_timeout gets its own, longer deadline; the others
// keep the configured one.
func TestCategoryMinTimeout(t *testing.T) {
	slow := func(_ context.Context, inv *inventory.Inventory) error {
		time.Sleep(300 * time.Millisecond)
		inv.System.Model = "slow but complete"
		return nil
	}
	cats := []Category{
		{Name: "patient", Collect: slow, MinTimeout: 5 * time.Second},
		{Name: "default", Collect: func(ctx context.Context, inv *inventory.Inventory) error { <-ctx.Done(); return ctx.Err() }},
	}
	inv, err := Collect(context.Background(), Options{CategoryTimeout: 50 * time.Millisecond}, cats)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, inv, "patient"); r.TimedOut || r.Error != "" || inv.System.Model != "slow but complete" {
		t.Errorf("patient = %+v, model %q", r, inv.System.Model)
	}
	if r := resultOf(t, inv, "default"); !r.TimedOut || r.Error != "timed out after 50ms" {
		t.Errorf("default = %+v", r)
	}
}

// checkCategories checks an OS's category list: every wanted name present, none twice, each
// with a collector.
func checkCategories(t *testing.T, cats []Category, want []string) {
	t.Helper()
	got := map[string]bool{}
	for _, c := range cats {
		if got[c.Name] || c.Collect == nil {
			t.Errorf("category %q duplicated or without a collector", c.Name)
		}
		got[c.Name] = true
	}
	for _, n := range want {
		if !got[n] {
			t.Errorf("category %q missing", n)
		}
	}
}

func TestSharedLoadsOncePerCollection(t *testing.T) {
	var loads atomic.Int32
	load := func() int { return int(loads.Add(1)) }
	ctx := withShared(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v := shared(ctx, "x", load); v != 1 {
				t.Errorf("shared = %d, want the first load's 1", v)
			}
		})
	}
	wg.Wait()
	if loads.Load() != 1 {
		t.Errorf("%d loads in one collection, want 1", loads.Load())
	}
	if v := shared(withShared(context.Background()), "x", load); v != 2 {
		t.Errorf("a new collection got %d, want a new load", v)
	}
	if v := shared(context.Background(), "x", load); v != 3 {
		t.Errorf("outside a collection got %d, want a new load", v)
	}
}

// A hello asks for a few categories: only those run, disabled ones stay skipped, the result is
// reused within the TTL and never served as the full inventory, and a fresh full inventory
// answers without collecting.
func TestCachedPartial(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runs := map[string]int{}
	var mu sync.Mutex
	cat := func(name string) Category {
		return Category{Name: name, Collect: func(_ context.Context, inv *inventory.Inventory) error {
			mu.Lock()
			runs[name]++
			mu.Unlock()
			if name == inventory.CategoryNetwork {
				inv.Networks = append(inv.Networks, inventory.Network{Name: "eth0"})
			}
			return nil
		}}
	}
	c := New(Options{TTL: time.Minute, Now: func() time.Time { return now }, Disable: []string{inventory.CategoryBatteries}})
	c.cats = []Category{cat(inventory.CategorySystem), cat(inventory.CategoryNetwork), cat(inventory.CategoryBatteries), cat("software")}
	ctx := context.Background()

	inv, err := c.Partial(ctx, inventory.CategoryNetwork, inventory.CategoryBatteries, inventory.CategoryNetwork)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Networks) != 1 || runs[inventory.CategoryNetwork] != 1 || runs["software"] != 0 || runs[inventory.CategorySystem] != 0 || runs[inventory.CategoryBatteries] != 0 {
		t.Fatalf("partial collection: runs %v, networks %v", runs, inv.Networks)
	}
	if !resultOf(t, inv, inventory.CategoryBatteries).Skipped || len(inv.Meta.Categories) != 2 {
		t.Errorf("partial metadata: %+v", inv.Meta.Categories)
	}
	// Same set in another order: cached.
	if _, err := c.Partial(ctx, inventory.CategoryBatteries, inventory.CategoryNetwork); err != nil || runs[inventory.CategoryNetwork] != 1 {
		t.Errorf("partial within the TTL collected again: runs %v err %v", runs, err)
	}
	// The full inventory is never the partial one.
	full, err := c.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if runs["software"] != 1 || runs[inventory.CategorySystem] != 1 || full == inv {
		t.Fatalf("full inventory after a partial: runs %v", runs)
	}
	// A fresh full inventory answers partial requests of any set.
	if got, err := c.Partial(ctx, inventory.CategorySystem); err != nil || got != full || runs[inventory.CategorySystem] != 1 {
		t.Errorf("partial while the full inventory is fresh: same %v, runs %v, err %v", got == full, runs, err)
	}
	// Both expired: a partial collects again, alone.
	now = now.Add(2 * time.Minute)
	if got, err := c.Partial(ctx, inventory.CategoryNetwork); err != nil || got == full || runs[inventory.CategoryNetwork] != 3 || runs["software"] != 1 {
		t.Errorf("partial after the TTL: runs %v err %v", runs, err)
	}
}

// Providers without Partial answer with their full inventory.
func TestPartialFallsBackToFull(t *testing.T) {
	want := &inventory.Inventory{}
	got, err := inventory.Partial(context.Background(), fullOnly{want}, inventory.CategoryNetwork)
	if err != nil || got != want {
		t.Errorf("got %p, %v; want the full inventory %p", got, err, want)
	}
}

type fullOnly struct{ inv *inventory.Inventory }

func (f fullOnly) Inventory(context.Context) (*inventory.Inventory, error) { return f.inv, nil }

// The categories a hello or heartbeat asks for alone exist on this OS: a renamed collector
// would otherwise leave them empty without a word.
func TestPartialCategoriesExist(t *testing.T) {
	have := map[string]bool{}
	for _, c := range categories() {
		have[c.Name] = true
	}
	for _, name := range []string{inventory.CategorySystem, inventory.CategoryOS, inventory.CategoryNetwork, inventory.CategoryBatteries} {
		if !have[name] {
			t.Errorf("no collector named %q on this OS", name)
		}
	}
}
