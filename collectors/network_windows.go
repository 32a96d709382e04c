package collectors

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/omniagent/omniagent/inventory"
)

// winCollectNetwork reads every adapter with GetAdaptersAddresses: MAC, addresses with prefix,
// gateways, DNS servers, DHCP state and server, speed, type and status.
func winCollectNetwork(_ context.Context, inv *inventory.Inventory) error {
	const flags = windows.GAA_FLAG_INCLUDE_GATEWAYS | windows.GAA_FLAG_SKIP_ANYCAST | windows.GAA_FLAG_SKIP_MULTICAST
	size := uint32(16 << 10)
	var buf []byte
	for range 4 {
		buf = make([]byte, size)
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, flags, 0, (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])), &size)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			return fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
		buf = nil
	}
	if buf == nil {
		return errors.New("GetAdaptersAddresses: buffer keeps growing")
	}
	for a := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])); a != nil; a = a.Next {
		na := netAdapter{
			Name:        windows.UTF16PtrToString(a.FriendlyName),
			Description: windows.UTF16PtrToString(a.Description),
			MAC:         append([]byte(nil), a.PhysicalAddress[:min(int(a.PhysicalAddressLength), len(a.PhysicalAddress))]...),
			IfType:      a.IfType,
			Up:          a.OperStatus == windows.IfOperStatusUp,
			DHCP:        a.Flags&ipAdapterDHCPEnabled != 0,
			MTU:         a.Mtu,
			SpeedBps:    a.TransmitLinkSpeed,
		}
		for u := a.FirstUnicastAddress; u != nil; u = u.Next {
			if ip, ok := sockAddr(&u.Address); ok {
				na.Unicast = append(na.Unicast, netip.PrefixFrom(ip, int(u.OnLinkPrefixLength)))
			}
		}
		for g := a.FirstGatewayAddress; g != nil; g = g.Next {
			if ip, ok := sockAddr(&g.Address); ok {
				na.Gateways = append(na.Gateways, ip)
			}
		}
		for d := a.FirstDnsServerAddress; d != nil; d = d.Next {
			if ip, ok := sockAddr(&d.Address); ok {
				na.DNS = append(na.DNS, ip)
			}
		}
		if ip, ok := sockAddr(&a.Dhcpv4Server); ok {
			na.DHCPServer = ip
		}
		inv.Networks = append(inv.Networks, networkFromAdapter(na))
	}
	return nil
}

func sockAddr(sa *windows.SocketAddress) (netip.Addr, bool) {
	if sa == nil || sa.Sockaddr == nil {
		return netip.Addr{}, false
	}
	ip, ok := netip.AddrFromSlice(sa.IP())
	if !ok {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

const ipAdapterDHCPEnabled = 0x4 // IP_ADAPTER_DHCP_ENABLED in IP_ADAPTER_ADDRESSES.Flags
