package collectors

import (
	"context"
	"testing"

	"github.com/omniagent/omniagent/inventory"
)

// BenchmarkCollect is one full, uncached inventory of this machine (every category).
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	o := Options{}
	cats := categories()
	b.ReportAllocs()
	for b.Loop() {
		inv, err := Collect(ctx, o, cats)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Meta.Categories) != len(cats) {
			b.Fatalf("%d results", len(inv.Meta.Categories))
		}
	}
}

// BenchmarkParseEDID and friends measure the binary parsers on the recorded fixtures.
func BenchmarkParseEDID(b *testing.B) {
	blob := readFixture(b, "dell_p2414h.edid")
	for b.Loop() {
		if _, err := ParseEDID(blob); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSMBIOS(b *testing.B) {
	table := readFixture(b, "smbios_thinkpad.bin")
	for b.Loop() {
		if _, err := ParseSMBIOS(table, 3, 3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCategory runs each category alone, one after the other, to see what each costs.
func BenchmarkCategory(b *testing.B) {
	ctx := context.Background()
	for _, c := range categories() {
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var inv inventory.Inventory
				_ = c.Collect(ctx, &inv)
			}
		})
	}
}
