package collectors

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

func collectNetwork(ctx context.Context, inv *inventory.Inventory) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	gw4 := ParseRoute(readStr("/proc/net/route"))
	gw6 := ParseIPv6Route(readStr("/proc/net/ipv6_route"))
	dns := resolvNameservers(readStr("/etc/resolv.conf"))
	if len(dns) == 1 && dns[0] == "127.0.0.53" {
		// systemd-resolved's stub: the upstream servers are in its own file.
		if up := resolvNameservers(readStr("/run/systemd/resolve/resolv.conf")); len(up) > 0 {
			dns = up
		}
	}
	leases := dhcpLeases()
	var pciNICs []pciDevice // named in one pass over pci.ids below
	var pciIdx []int
	for _, ifc := range ifs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := inventory.Network{Name: ifc.Name, MAC: strings.ToLower(ifc.HardwareAddr.String()), MTU: ifc.MTU,
			Up: ifc.Flags&net.FlagUp != 0}
		dir := filepath.Join("/sys/class/net", ifc.Name)
		if op := readStr(filepath.Join(dir, "operstate")); op != "" && op != "unknown" {
			n.Up = op == "up"
		}
		if sp, err := strconv.ParseInt(readStr(filepath.Join(dir, "speed")), 10, 64); err == nil && sp > 0 {
			n.SpeedBps = uint64(sp) * 1_000_000
		}
		n.Virtual = fileExists(filepath.Join("/sys/devices/virtual/net", ifc.Name))
		n.Type = netType(dir, ifc)
		if l, err := os.Readlink(filepath.Join(dir, "device", "driver")); err == nil {
			n.Driver = filepath.Base(l)
		}
		devDir := filepath.Join(dir, "device")
		if sub, err := os.Readlink(filepath.Join(devDir, "subsystem")); err == nil && filepath.Base(sub) == "virtio" {
			if real, err := filepath.EvalSymlinks(devDir); err == nil {
				devDir = filepath.Dir(real) // the virtio device sits on a PCI function
			}
		}
		if v, d := readStr(filepath.Join(devDir, "vendor")), readStr(filepath.Join(devDir, "device")); v != "" && d != "" {
			v, d = strings.TrimPrefix(v, "0x"), strings.TrimPrefix(d, "0x")
			n.PCIID = v + ":" + d
			pciNICs = append(pciNICs, pciDevice{Vendor: v, Device: d})
			pciIdx = append(pciIdx, len(inv.Networks))
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if ip := ipn.IP.To4(); ip != nil {
				n.IPv4 = append(n.IPv4, ipv4Addr(ip, ipn.Mask))
			} else {
				ones, _ := ipn.Mask.Size()
				ip6, _ := netip.AddrFromSlice(ipn.IP)
				n.IPv6 = append(n.IPv6, inventory.IPAddr{Address: ip6.String(), Prefix: ones,
					Subnet: netip.PrefixFrom(ip6, ones).Masked().Addr().String()})
			}
		}
		n.Gateway, n.Gateway6 = gw4[ifc.Name], gw6[ifc.Name]
		if n.Type != "loopback" && (len(n.IPv4) > 0 || len(n.IPv6) > 0) {
			n.DNS = dns
		}
		if srv, ok := leases[ifc.Name]; ok {
			n.DHCP, n.DHCPServer = true, srv
		}
		inv.Networks = append(inv.Networks, n)
	}
	namePCINICs(ctx, pciNICs)
	for i, d := range pciNICs {
		inv.Networks[pciIdx[i]].Description = strings.TrimSpace(firstSet(d.DeviceName, d.VendorName))
	}
	for i := range inv.Networks {
		if inv.Networks[i].Description == "" {
			inv.Networks[i].Description = inv.Networks[i].Driver
		}
	}
	return nil
}

// namePCINICs names the NICs from the collection's PCI scan, which has read pci.ids already;
// pci.ids is read again only for a function the scan did not list.
func namePCINICs(ctx context.Context, nics []pciDevice) {
	bus, _ := pciDevices(ctx)
	var rest []int
	for i := range nics {
		found := false
		for _, d := range bus {
			if d.Vendor == nics[i].Vendor && d.Device == nics[i].Device {
				nics[i].VendorName, nics[i].DeviceName, found = d.VendorName, d.DeviceName, true
				break
			}
		}
		if !found {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return
	}
	unnamed := make([]pciDevice, len(rest))
	for j, i := range rest {
		unnamed[j] = nics[i]
	}
	namePCI(unnamed)
	for j, i := range rest {
		nics[i].VendorName, nics[i].DeviceName = unnamed[j].VendorName, unnamed[j].DeviceName
	}
}

func ipv4Addr(ip net.IP, mask net.IPMask) inventory.IPAddr {
	ones, _ := mask.Size()
	a := inventory.IPAddr{Address: ip.String(), Prefix: ones}
	if len(mask) == 16 {
		mask = mask[12:]
	}
	if len(mask) == 4 {
		a.Netmask = net.IP(mask).String()
		sub := ip.Mask(mask)
		a.Subnet = sub.String()
		bc := make(net.IP, 4)
		for i := range 4 {
			bc[i] = sub[i] | ^mask[i]
		}
		if ones < 31 {
			a.Broadcast = bc.String()
		}
	}
	return a
}

// netType classifies an interface from sysfs.
func netType(dir string, ifc net.Interface) string {
	switch {
	case ifc.Flags&net.FlagLoopback != 0:
		return "loopback"
	case fileExists(filepath.Join(dir, "wireless")) || fileExists(filepath.Join(dir, "phy80211")):
		return "wifi"
	case fileExists(filepath.Join(dir, "bridge")):
		return "bridge"
	case fileExists(filepath.Join(dir, "bonding")):
		return "bond"
	case fileExists(filepath.Join(dir, "tun_flags")):
		return "tunnel"
	}
	uev := readKV(filepath.Join(dir, "uevent"))
	switch uev["DEVTYPE"] {
	case "vlan":
		return "vlan"
	case "wwan":
		return "wwan"
	case "":
	default:
		return uev["DEVTYPE"]
	}
	switch readStr(filepath.Join(dir, "type")) {
	case "1":
		if fileExists(filepath.Join("/sys/devices/virtual/net", ifc.Name)) {
			return "virtual"
		}
		return "ethernet"
	case "768", "769", "776", "778", "823":
		return "tunnel"
	case "65534":
		return "tunnel"
	case "32":
		return "infiniband"
	case "512":
		return "ppp"
	}
	return "virtual"
}

// ParseRoute returns each interface's IPv4 default gateway from /proc/net/route.
func ParseRoute(s string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] == "Iface" || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		g, err := hex.DecodeString(f[2])
		if err != nil || len(g) != 4 || binary.LittleEndian.Uint32(g) == 0 {
			continue
		}
		if _, seen := out[f[0]]; !seen {
			// The kernel writes the address in host (little-endian) byte order.
			out[f[0]] = netip.AddrFrom4([4]byte{g[3], g[2], g[1], g[0]}).String()
		}
	}
	return out
}

// ParseIPv6Route returns each interface's IPv6 default gateway from /proc/net/ipv6_route.
func ParseIPv6Route(s string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" {
			continue
		}
		g, err := hex.DecodeString(f[4])
		if err != nil || len(g) != 16 {
			continue
		}
		a := netip.AddrFrom16([16]byte(g))
		if a.IsUnspecified() {
			continue
		}
		if _, seen := out[f[9]]; !seen {
			out[f[9]] = a.String()
		}
	}
	return out
}

func resolvNameservers(conf string) []string {
	var out []string
	for line := range strings.Lines(conf) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}

// dhcpLeases maps interfaces with a DHCP lease to the server that gave it (may be empty):
// systemd-networkd, NetworkManager's internal client, dhclient.
func dhcpLeases() map[string]string {
	out := map[string]string{}
	if entries, err := readDir("/run/systemd/netif/leases"); err == nil {
		for _, e := range entries {
			idx, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if ifc, err := net.InterfaceByIndex(idx); err == nil {
				out[ifc.Name] = readKV(filepath.Join("/run/systemd/netif/leases", e.Name()))["SERVER_ADDRESS"]
			}
		}
	}
	nm, _ := filepath.Glob("/var/lib/NetworkManager/internal-*.lease")
	for _, p := range nm {
		base := strings.TrimSuffix(filepath.Base(p), ".lease")
		if i := strings.LastIndexByte(base, '-'); i > 0 {
			out[base[i+1:]] = readKV(p)["SERVER_ADDRESS"]
		}
	}
	var dh []string
	for _, g := range []string{"/var/lib/dhcp/dhclient*.leases", "/var/lib/dhclient/*.lease*", "/var/lib/NetworkManager/dhclient-*.lease"} {
		m, _ := filepath.Glob(g)
		dh = append(dh, m...)
	}
	for _, p := range dh {
		if b, err := readFile(p); err == nil {
			for ifc, srv := range ParseDhclientLeases(string(b)) {
				out[ifc] = srv
			}
		}
	}
	return out
}

// ParseDhclientLeases returns the last lease's DHCP server per interface from a dhclient
// leases file.
func ParseDhclientLeases(s string) map[string]string {
	out := map[string]string{}
	var ifc, srv string
	for line := range strings.Lines(s) {
		l := strings.TrimSuffix(strings.TrimSpace(line), ";")
		switch {
		case strings.HasPrefix(l, "lease"):
			ifc, srv = "", ""
		case strings.HasPrefix(l, "interface "):
			ifc = strings.Trim(strings.TrimPrefix(l, "interface "), `"`)
		case strings.HasPrefix(l, "option dhcp-server-identifier "):
			srv = strings.TrimPrefix(l, "option dhcp-server-identifier ")
		case l == "}":
			if ifc != "" {
				out[ifc] = srv
			}
		}
	}
	return out
}
