package mig

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig/modules"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

// goldenAdapter has a fixed identity, clock and environment (the note's §3.4/§3.5 examples).
func goldenAdapter(t *testing.T, oneshot bool) *Adapter {
	t.Helper()
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := NewOptions()
	o.Relay, o.HeartbeatTransport = "amqp://r/", HeartbeatAMQP
	o.Tags = map[string]string{"environment": "e2e"}
	start := time.Date(2026, 11, 22, 9, 22, 54, 0, time.UTC)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	a, err := New(protocols.Deps{
		Server: config.Server{Name: "mig1", Protocol: "mig", Options: o}, State: st.Server("mig1"),
		Now: func() time.Time { return start }, Options: protocols.Options{Oneshot: oneshot},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return now }
	a.name, a.version, a.pid, a.goos, a.goarch = "vm", "1.4.0", 11746, "linux", "amd64"
	a.queueLoc = "linux.7hzz"
	a.modules = modules.Registry{"file": nil}
	a.env = environment{init: "systemd", ident: "Debian 12 bookworm", addresses: []string{"192.0.2.2/24", "fd00::2/64"},
		publicIP: "198.51.100.7", refreshed: start}
	return a
}

func TestHeartbeatGoldens(t *testing.T) {
	cases := []struct {
		name    string
		oneshot bool
		build   func(a *Adapter) any
		want    string
	}{
		{"http daemon", false, func(a *Adapter) any { return a.buildHTTPHeartbeat() },
			`{"name":"vm","mode":"daemon","version":"1.4.0","pid":11746,"queueLoc":"linux.7hzz","startTime":"2026-11-22T09:30:00Z","refreshTime":"2026-11-22T09:22:54Z","environment":{"init":"systemd","ident":"Debian 12 bookworm","os":"linux","arch":"amd64","isProxied":false,"proxy":"","addresses":["192.0.2.2/24","fd00::2/64"],"publicIP":"198.51.100.7","modules":["file"]},"tags":[{"name":"environment","value":"e2e"}]}`},
		{"http oneshot", true, func(a *Adapter) any { a.opts.Tags = nil; a.env.addresses = nil; return a.buildHTTPHeartbeat() },
			`{"name":"vm","mode":"checkin","version":"1.4.0","pid":11746,"queueLoc":"linux.7hzz","startTime":"2026-11-22T09:30:00Z","refreshTime":"2026-11-22T09:22:54Z","environment":{"init":"systemd","ident":"Debian 12 bookworm","os":"linux","arch":"amd64","isProxied":false,"proxy":"","addresses":[],"publicIP":"198.51.100.7","modules":["file"]},"tags":[]}`},
		{"legacy", false, func(a *Adapter) any { a.env.addresses = a.env.addresses[:1]; return a.buildLegacyHeartbeat() },
			`{"name":"vm","queueloc":"linux.7hzz","mode":"daemon","version":"1.4.0","pid":11746,"starttime":"2026-11-22T09:22:54Z","destructiontime":"0001-01-01T00:00:00Z","heartbeatts":"2026-11-22T09:30:00Z","refreshts":"2026-11-22T09:22:54Z","environment":{"init":"systemd","ident":"Debian 12 bookworm","os":"linux","arch":"amd64","isproxied":false,"addresses":["192.0.2.2/24"],"publicip":"198.51.100.7","aws":{},"modules":["file"]},"tags":{"environment":"e2e"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.build(goldenAdapter(t, c.oneshot)))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Errorf("got\n%s\nwant\n%s", b, c.want)
			}
		})
	}
}

// The heartbeat's environment comes from the OS and network categories alone.
func TestHeartbeatEnvironmentFromPartialInventory(t *testing.T) {
	a := goldenAdapter(t, false)
	a.d.Inventory = protocoltest.PartialInventory{T: t, Want: []string{inventory.CategoryOS, inventory.CategoryNetwork}, Inv: &inventory.Inventory{
		OS: inventory.OS{ID: "debian", Version: "12", Codename: "bookworm"},
		Networks: []inventory.Network{
			{Name: "lo", Type: "loopback", IPv4: []inventory.IPAddr{{Address: "127.0.0.1", Prefix: 8}}},
			{Name: "eth0", IPv4: []inventory.IPAddr{{Address: "192.0.2.2", Prefix: 24}}},
		},
	}}
	_, ident, addrs := a.readMachine(context.Background())
	if ident != "Debian 12 bookworm" || !slices.Equal(addrs, []string{"192.0.2.2/24"}) {
		t.Errorf("ident %q, addresses %v", ident, addrs)
	}
}
