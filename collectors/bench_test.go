package collectors

import (
	"context"
	"testing"
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
