//go:build !linux

package netstat

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"

	gnet "github.com/shirou/gopsutil/v4/net"
)

// osSource uses gopsutil's socket table (Windows: GetExtendedTcpTable; macOS: it runs lsof).
type osSource struct{}

func (osSource) Interfaces(context.Context) ([]Interface, error) { return netInterfaces() }

func (osSource) Sockets(ctx context.Context, namespaces bool) ([]Socket, error) {
	conns, err := gnet.ConnectionsWithContext(ctx, "inet")
	if err != nil {
		return nil, err
	}
	out := make([]Socket, 0, len(conns))
	for _, c := range conns {
		s := Socket{LocalIP: net.ParseIP(c.Laddr.IP), LocalPort: int(c.Laddr.Port),
			RemoteIP: net.ParseIP(c.Raddr.IP), RemotePort: int(c.Raddr.Port)}
		switch c.Type {
		case 1: // SOCK_STREAM
			s.Proto = "tcp"
			s.Listen = strings.EqualFold(c.Status, "LISTEN")
		case 2: // SOCK_DGRAM
			s.Proto = "udp"
			s.Listen = c.Raddr.Port == 0
		default:
			continue
		}
		if s.LocalIP == nil {
			s.LocalIP = net.IPv4zero
		}
		out = append(out, s)
	}
	return out, nil
}

func (osSource) Neighbors(context.Context, bool) ([]Neighbor, error) {
	return nil, errors.New("neighbor searches are not available on " + runtime.GOOS)
}
