package collectors

import (
	"net"
	"net/netip"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// netAdapter is what GetAdaptersAddresses reports for one interface, in plain Go types, so
// that turning it into inventory is tested on every OS.
type netAdapter struct {
	Name        string // FriendlyName: "Ethernet", "Wi-Fi"
	Description string // driver's adapter name
	MAC         []byte
	IfType      uint32 // IANA ifType
	Up          bool
	DHCP        bool
	MTU         uint32
	SpeedBps    uint64
	Unicast     []netip.Prefix // address with its on-link prefix length
	Gateways    []netip.Addr
	DNS         []netip.Addr
	DHCPServer  netip.Addr
}

// networkFromAdapter maps one adapter. Windows reports speeds as all ones when unknown.
func networkFromAdapter(a netAdapter) inventory.Network {
	n := inventory.Network{
		Name:        a.Name,
		Description: a.Description,
		Up:          a.Up,
		DHCP:        a.DHCP,
		MTU:         int(a.MTU),
		Type:        ifTypeName(a.IfType),
	}
	if a.MTU == ^uint32(0) {
		n.MTU = 0
	}
	if a.SpeedBps != ^uint64(0) {
		n.SpeedBps = a.SpeedBps
	}
	if len(a.MAC) == 6 {
		n.MAC = net.HardwareAddr(a.MAC).String()
	}
	for _, p := range a.Unicast {
		if p.Addr().Is4() || p.Addr().Is4In6() {
			n.IPv4 = append(n.IPv4, ipv4WithPrefix(p))
		} else {
			n.IPv6 = append(n.IPv6, inventory.IPAddr{Address: p.Addr().String(), Prefix: p.Bits(), Subnet: p.Masked().Addr().String()})
		}
	}
	for _, g := range a.Gateways {
		switch {
		case g.Is4() && n.Gateway == "":
			n.Gateway = g.String()
		case g.Is6() && !g.Is4In6() && n.Gateway6 == "":
			n.Gateway6 = g.String()
		}
	}
	for _, d := range a.DNS {
		// fec0:0:0:ffff::1..3 are Windows' placeholder site-local resolvers.
		if d.Is6() && strings.HasPrefix(d.String(), "fec0:0:0:ffff::") {
			continue
		}
		n.DNS = append(n.DNS, d.String())
	}
	if a.DHCP && a.DHCPServer.IsValid() && !a.DHCPServer.IsUnspecified() {
		n.DHCPServer = a.DHCPServer.String()
	}
	desc := strings.ToLower(a.Description)
	for _, v := range []string{"virtual", "hyper-v", "vmware", "virtualbox", "tap-", "wireguard", "vpn", "loopback", "teredo", "isatap", "wan miniport"} {
		if strings.Contains(desc, v) {
			n.Virtual = true
		}
	}
	if n.Type == "loopback" || n.Type == "tunnel" {
		n.Virtual = true
	}
	return n
}

func ipv4WithPrefix(p netip.Prefix) inventory.IPAddr {
	addr := p.Addr().Unmap()
	bits := p.Bits()
	if bits < 0 || bits > 32 {
		bits = 32
	}
	mask := net.CIDRMask(bits, 32)
	a4 := addr.As4()
	var bc [4]byte
	for i := range 4 {
		bc[i] = a4[i] | ^mask[i]
	}
	r := inventory.IPAddr{
		Address: addr.String(),
		Prefix:  bits,
		Netmask: net.IP(mask).String(),
		Subnet:  netip.PrefixFrom(addr, bits).Masked().Addr().String(),
	}
	if bits < 31 {
		r.Broadcast = netip.AddrFrom4(bc).String()
	}
	return r
}

// ifTypeName names the IANA ifType numbers Windows uses.
func ifTypeName(t uint32) string {
	switch t {
	case 6:
		return "ethernet"
	case 71:
		return "wifi"
	case 24:
		return "loopback"
	case 131:
		return "tunnel"
	case 23, 243, 244:
		return "ppp" // also WWAN
	case 53:
		return "virtual" // propVirtual
	case 0:
		return ""
	}
	return "other"
}
