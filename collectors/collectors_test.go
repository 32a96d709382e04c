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
