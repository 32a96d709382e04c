package collectors

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/omniagent/omniagent/inventory"
)

func TestNetworkFromAdapter(t *testing.T) {
	tests := []struct {
		name string
		in   netAdapter
		want inventory.Network
	}{
		{
			name: "dhcp ethernet",
			in: netAdapter{
				Name: "Ethernet", Description: "Intel(R) Ethernet Connection (13) I219-LM", MAC: []byte{0x8c, 0x8c, 0xaa, 0x01, 0x02, 0x03},
				IfType: 6, Up: true, DHCP: true, MTU: 1500, SpeedBps: 1_000_000_000,
				Unicast:    []netip.Prefix{netip.MustParsePrefix("fe80::1c2d:3e4f:5a6b:7c8d/64"), netip.MustParsePrefix("192.168.1.23/24")},
				Gateways:   []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("fe80::1")},
				DNS:        []netip.Addr{netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("fec0:0:0:ffff::1")},
				DHCPServer: netip.MustParseAddr("192.168.1.1"),
			},
			want: inventory.Network{
				Name: "Ethernet", Description: "Intel(R) Ethernet Connection (13) I219-LM", MAC: "8c:8c:aa:01:02:03",
				IPv4:    []inventory.IPAddr{{Address: "192.168.1.23", Prefix: 24, Netmask: "255.255.255.0", Subnet: "192.168.1.0", Broadcast: "192.168.1.255"}},
				IPv6:    []inventory.IPAddr{{Address: "fe80::1c2d:3e4f:5a6b:7c8d", Prefix: 64, Subnet: "fe80::"}},
				Gateway: "192.168.1.1", Gateway6: "fe80::1", DNS: []string{"192.168.1.1"}, DHCP: true, DHCPServer: "192.168.1.1",
				SpeedBps: 1_000_000_000, Type: "ethernet", Up: true, MTU: 1500,
			},
		},
		{
			name: "hyper-v switch down, unknown speed",
			in: netAdapter{Name: "vEthernet (Default Switch)", Description: "Hyper-V Virtual Ethernet Adapter", MAC: []byte{0, 0x15, 0x5d, 1, 2, 3},
				IfType: 6, MTU: ^uint32(0), SpeedBps: ^uint64(0), Unicast: []netip.Prefix{netip.MustParsePrefix("172.20.16.1/32")}},
			want: inventory.Network{Name: "vEthernet (Default Switch)", Description: "Hyper-V Virtual Ethernet Adapter", MAC: "00:15:5d:01:02:03",
				IPv4: []inventory.IPAddr{{Address: "172.20.16.1", Prefix: 32, Netmask: "255.255.255.255", Subnet: "172.20.16.1"}}, Type: "ethernet", Virtual: true},
		},
		{
			name: "loopback",
			in:   netAdapter{Name: "Loopback Pseudo-Interface 1", IfType: 24, Up: true, Unicast: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
			want: inventory.Network{Name: "Loopback Pseudo-Interface 1", Type: "loopback", Up: true, Virtual: true,
				IPv4: []inventory.IPAddr{{Address: "127.0.0.1", Prefix: 8, Netmask: "255.0.0.0", Subnet: "127.0.0.0", Broadcast: "127.255.255.255"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := networkFromAdapter(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
