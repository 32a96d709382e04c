// Package netstat is MIG's netstat module: local MAC and IP addresses, neighbours from the ARP
// table, connected remote addresses and listening ports. On Linux it reads /proc/net (every
// network namespace with "namespaces"); elsewhere the socket table comes from gopsutil and the
// neighbour searches are not available.
//
// Deviations from MIG (documented): listeningport reports TCP sockets in LISTEN state and bound
// UDP sockets only (MIG matched any socket with that local port, established ones included);
// connectedip skips listening and unconnected sockets; totalhits counts the elements (MIG left
// it at 0); interfaces without a MAC address are not MAC candidates.
package netstat

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// Module is the netstat module. Source reads the machine's tables (nil: the OS's).
type Module struct {
	Source Source
}

// Source gives the tables the searches look into.
type Source interface {
	Interfaces(ctx context.Context) ([]Interface, error)
	Sockets(ctx context.Context, namespaces bool) ([]Socket, error)
	Neighbors(ctx context.Context, namespaces bool) ([]Neighbor, error)
}

// Interface is a local interface with its addresses.
type Interface struct {
	MAC   string
	Addrs []net.IP
}

// Socket is one row of the socket table.
type Socket struct {
	Proto      string // tcp, udp
	LocalIP    net.IP
	LocalPort  int
	RemoteIP   net.IP
	RemotePort int
	Listen     bool // TCP LISTEN, or UDP with no peer
	Namespace  string
}

// Neighbor is one ARP entry.
type Neighbor struct {
	IP        string
	MAC       string
	Namespace string
}

// Params are MIG's netstat parameters.
type Params struct {
	LocalMAC      []string `json:"localmac,omitempty"`
	LocalIP       []string `json:"localip,omitempty"`
	NeighborMAC   []string `json:"neighbormac,omitempty"`
	NeighborIP    []string `json:"neighborip,omitempty"`
	ConnectedIP   []string `json:"connectedip,omitempty"`
	ListeningPort []string `json:"listeningport,omitempty"`
	Namespaces    bool     `json:"namespaces,omitempty"`
}

// Elements are the module's elements: per category, search value → matches.
type Elements struct {
	LocalMAC      map[string][]Element `json:"localmac,omitempty"`
	LocalIP       map[string][]Element `json:"localip,omitempty"`
	NeighborMAC   map[string][]Element `json:"neighbormac,omitempty"`
	NeighborIP    map[string][]Element `json:"neighborip,omitempty"`
	ConnectedIP   map[string][]Element `json:"connectedip,omitempty"`
	ListeningPort map[string][]Element `json:"listeningport,omitempty"`
}

// Element is one match.
type Element struct {
	LocalMACAddr  string  `json:"localmacaddr,omitempty"`
	RemoteMACAddr string  `json:"remotemacaddr,omitempty"`
	LocalAddr     string  `json:"localaddr,omitempty"`
	LocalPort     float64 `json:"localport,omitempty"`
	RemoteAddr    string  `json:"remoteaddr,omitempty"`
	RemotePort    float64 `json:"remoteport,omitempty"`
	Namespace     string  `json:"namespace,omitempty"`
}

// Statistics are the module's statistics.
type Statistics struct {
	Examined  float64 `json:"examined"`
	Exectime  string  `json:"exectime"`
	Totalhits float64 `json:"totalhits"`
}

type compiled struct {
	localMAC, neighborMAC []*regexp.Regexp
	localIP, neighborIP   []*net.IPNet
	connectedIP           []*net.IPNet
	listeningPort         []int
}

func parseIPOrCIDR(v string) (*net.IPNet, error) {
	if strings.Contains(v, "/") {
		_, n, err := net.ParseCIDR(v)
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR %q: %w", v, err)
		}
		return n, nil
	}
	ip := net.ParseIP(v)
	if ip == nil {
		return nil, fmt.Errorf("invalid IP %q: must be an IP or a CIDR", v)
	}
	bits := 128
	if ip4 := ip.To4(); ip4 != nil {
		ip, bits = ip4, 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

func compile(p Params) (compiled, error) {
	var c compiled
	for _, l := range []struct {
		vals []string
		out  *[]*regexp.Regexp
	}{{p.LocalMAC, &c.localMAC}, {p.NeighborMAC, &c.neighborMAC}} {
		for _, v := range l.vals {
			re, err := regexp.Compile("(?i)" + v)
			if err != nil {
				return c, fmt.Errorf("invalid MAC regexp %q: %w", v, err)
			}
			*l.out = append(*l.out, re)
		}
	}
	for _, l := range []struct {
		vals []string
		out  *[]*net.IPNet
	}{{p.LocalIP, &c.localIP}, {p.NeighborIP, &c.neighborIP}, {p.ConnectedIP, &c.connectedIP}} {
		for _, v := range l.vals {
			n, err := parseIPOrCIDR(v)
			if err != nil {
				return c, err
			}
			*l.out = append(*l.out, n)
		}
	}
	for _, v := range p.ListeningPort {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return c, fmt.Errorf("%q is not a valid port: must be between 1 and 65535", v)
		}
		c.listeningPort = append(c.listeningPort, port)
	}
	return c, nil
}

// Run implements modules.Module.
func (m Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	start := time.Now()
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return modules.Failed(fmt.Errorf("invalid netstat parameters: %w", err)), nil
	}
	c, err := compile(p)
	if err != nil {
		return modules.Failed(err), nil
	}
	src := m.Source
	if src == nil {
		src = osSource{}
	}
	var (
		el     Elements
		stats  Statistics
		errs   []string
		found  bool
		ifaces []Interface
		socks  []Socket
		neighs []Neighbor
	)
	add := func(m *map[string][]Element, key string, e []Element) {
		if *m == nil {
			*m = map[string][]Element{}
		}
		(*m)[key] = e
		if len(e) > 0 {
			found = true
			stats.Totalhits += float64(len(e))
		}
	}
	if len(c.localMAC)+len(c.localIP) > 0 {
		if ifaces, err = src.Interfaces(ctx); err != nil {
			errs = append(errs, fmt.Sprintf("list interfaces: %v", err))
		}
	}
	if len(c.connectedIP)+len(c.listeningPort) > 0 {
		if socks, err = src.Sockets(ctx, p.Namespaces); err != nil {
			errs = append(errs, fmt.Sprintf("read socket table: %v", err))
		}
	}
	if len(c.neighborMAC)+len(c.neighborIP) > 0 {
		if neighs, err = src.Neighbors(ctx, p.Namespaces); err != nil {
			errs = append(errs, fmt.Sprintf("read neighbor table: %v", err))
		}
	}
	if ctx.Err() != nil {
		return modules.Result{}, ctx.Err()
	}
	for i, re := range c.localMAC {
		var out []Element
		for _, ifc := range ifaces {
			stats.Examined++
			if ifc.MAC != "" && re.MatchString(ifc.MAC) {
				out = append(out, Element{LocalMACAddr: ifc.MAC})
			}
		}
		add(&el.LocalMAC, p.LocalMAC[i], out)
	}
	for i, n := range c.localIP {
		var out []Element
		for _, ifc := range ifaces {
			for _, ip := range ifc.Addrs {
				stats.Examined++
				if n.Contains(ip) {
					out = append(out, Element{LocalAddr: ip.String()})
				}
			}
		}
		add(&el.LocalIP, p.LocalIP[i], out)
	}
	for i, re := range c.neighborMAC {
		var out []Element
		for _, nb := range neighs {
			stats.Examined++
			if re.MatchString(nb.MAC) {
				out = append(out, Element{RemoteAddr: nb.IP, RemoteMACAddr: nb.MAC, Namespace: nb.Namespace})
			}
		}
		add(&el.NeighborMAC, p.NeighborMAC[i], out)
	}
	for i, n := range c.neighborIP {
		var out []Element
		for _, nb := range neighs {
			stats.Examined++
			if ip := net.ParseIP(nb.IP); ip != nil && n.Contains(ip) {
				out = append(out, Element{RemoteAddr: nb.IP, RemoteMACAddr: nb.MAC, Namespace: nb.Namespace})
			}
		}
		add(&el.NeighborIP, p.NeighborIP[i], out)
	}
	for i, n := range c.connectedIP {
		var out []Element
		for _, s := range socks {
			stats.Examined++
			if s.Listen || s.RemotePort == 0 || s.RemoteIP == nil || !n.Contains(s.RemoteIP) {
				continue
			}
			out = append(out, Element{LocalAddr: s.LocalIP.String(), LocalPort: float64(s.LocalPort),
				RemoteAddr: s.RemoteIP.String(), RemotePort: float64(s.RemotePort), Namespace: s.Namespace})
		}
		add(&el.ConnectedIP, p.ConnectedIP[i], out)
	}
	for i, port := range c.listeningPort {
		var out []Element
		for _, s := range socks {
			stats.Examined++
			if s.Listen && s.LocalPort == port {
				out = append(out, Element{LocalAddr: s.LocalIP.String(), LocalPort: float64(port), Namespace: s.Namespace})
			}
		}
		add(&el.ListeningPort, p.ListeningPort[i], out)
	}
	stats.Exectime = time.Since(start).String()
	sort.Strings(errs)
	return modules.Normalize(modules.Result{FoundAnything: found, Success: true, Elements: el, Statistics: stats, Errors: errs})
}

// netInterfaces lists the interfaces with the standard library (every OS).
func netInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		i := Interface{MAC: ifc.HardwareAddr.String()}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				i.Addrs = append(i.Addrs, n.IP)
			}
		}
		out = append(out, i)
	}
	return out, nil
}
