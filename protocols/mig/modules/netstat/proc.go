package netstat

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// parseProcNet parses /proc/net/{tcp,tcp6,udp,udp6}: "sl local_address rem_address st ...",
// addresses as hex IP (host byte order per 32-bit word) and hex port.
func parseProcNet(r io.Reader, proto, ns string) ([]Socket, error) {
	var out []Socket
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		lip, lport, err := parseHexAddr(f[1])
		if err != nil {
			return out, fmt.Errorf("local address %q: %w", f[1], err)
		}
		rip, rport, err := parseHexAddr(f[2])
		if err != nil {
			return out, fmt.Errorf("remote address %q: %w", f[2], err)
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return out, fmt.Errorf("state %q: %w", f[3], err)
		}
		s := Socket{Proto: proto, LocalIP: lip, LocalPort: lport, RemoteIP: rip, RemotePort: rport, Namespace: ns}
		if proto == "tcp" {
			s.Listen = st == 0x0A // TCP_LISTEN
		} else {
			s.Listen = rport == 0 // bound, not connected
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseHexAddr decodes "0100007F:1F90" or the 32-digit IPv6 form.
func parseHexAddr(s string) (net.IP, int, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("want IP:PORT")
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("port: %w", err)
	}
	b, err := hex.DecodeString(ipHex)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, 0, fmt.Errorf("address must be 8 or 32 hex digits")
	}
	// Each 32-bit word is in host byte order (little-endian on every Linux port we build).
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), int(port), nil
}

// parseARP parses /proc/net/arp: "IP address HW type Flags HW address Mask Device".
func parseARP(r io.Reader, ns string) ([]Neighbor, error) {
	var out []Neighbor
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		out = append(out, Neighbor{IP: f[0], MAC: f[3], Namespace: ns})
	}
	return out, sc.Err()
}
