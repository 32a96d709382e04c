package glpi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/omniagent/omniagent/collectors"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// BenchmarkInventoryWire measures building, validating and compressing this machine's
// INVENTORY message per encoding; wire-bytes is the compressed size, json-bytes the plain one.
func BenchmarkInventoryWire(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := identity.Resolve(ctx, identity.Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	inv, err := collectors.New(collectors.Options{Identity: id}).Inventory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := compiled(); err != nil {
		b.Fatal(err)
	}
	benchEncodings(b, "", inv, id)
	// A typical desktop: 1500 packages, 8 interfaces, 40 users (collectors are still growing).
	big := *inv
	for i := range 1500 {
		big.Software = append(big.Software, inventory.Software{Name: fmt.Sprintf("package-%04d", i), Version: fmt.Sprintf("%d.%d.%d-1", i%7, i%13, i), Publisher: "Debian Project", Source: "dpkg", SizeBytes: uint64(i) * 4096, Arch: "amd64", Category: "utils"})
	}
	for i := range 8 {
		big.Networks = append(big.Networks, inventory.Network{Name: fmt.Sprintf("eth%d", i), MAC: fmt.Sprintf("52:54:00:12:34:%02x", i), Up: true, Type: "ethernet",
			IPv4: []inventory.IPAddr{{Address: fmt.Sprintf("10.0.%d.5", i), Prefix: 24}}, IPv6: []inventory.IPAddr{{Address: fmt.Sprintf("fe80::%d", i+1), Prefix: 64}}})
	}
	for i := range 40 {
		big.Users = append(big.Users, inventory.User{Name: fmt.Sprintf("user%d", i), UID: fmt.Sprint(1000 + i), Home: fmt.Sprintf("/home/user%d", i), Shell: "/bin/bash"})
	}
	benchEncodings(b, "desktop-", &big, id)
}

func benchEncodings(b *testing.B, prefix string, inv *inventory.Inventory, id identity.Identity) {
	discard := slog.New(slog.DiscardHandler)
	for _, enc := range []string{CompressNone, CompressZlib, CompressGzip, CompressBrotli} {
		b.Run(prefix+enc, func(b *testing.B) {
			b.ReportAllocs()
			var plain, wire int
			for b.Loop() {
				doc, _, err := buildDocument(inv, "pc1-2026-01-01-00-00-00", "", mapOptions{Version: id.AgentVersion}, nil, discard)
				if err != nil {
					b.Fatal(err)
				}
				out, err := json.Marshal(doc) // what submit sends
				if err != nil {
					b.Fatal(err)
				}
				w, _, err := compress(out, enc, ctJSON)
				if err != nil {
					b.Fatal(err)
				}
				plain, wire = len(out), len(w)
			}
			b.ReportMetric(float64(plain), "json-bytes")
			b.ReportMetric(float64(wire), "wire-bytes")
		})
	}
}
