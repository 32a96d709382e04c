// Package ping is MIG's ping module, without ICMP: a TCP connect or a UDP probe to a destination,
// count times, reporting each latency in milliseconds with MIG's sentinel values.
package ping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// MIG's latency sentinels.
const (
	latencyTimeout     = 9999999
	latencyUnreachable = -1
	latencyError       = 0
)

// Module is the ping module. Resolver is the DNS resolver (nil: net.DefaultResolver); Pause is
// the wait between probes (0: MIG's 100 ms).
type Module struct {
	Resolver *net.Resolver
	Pause    time.Duration
}

// Params are MIG's ping parameters.
type Params struct {
	Destination     string  `json:"destination"`
	DestinationPort float64 `json:"destinationport,omitempty"`
	Protocol        string  `json:"protocol"`
	Count           float64 `json:"count,omitempty"`
	Timeout         float64 `json:"timeout,omitempty"` // seconds per probe, default 5
}

// Elements are the module's elements.
type Elements struct {
	Latencies    []float64 `json:"latencies"`
	Protocol     string    `json:"protocol"`
	ResolvedHost string    `json:"resolvedhost"`
	Failures     []string  `json:"failures"`
}

var (
	errTimeout = errors.New("connection timed out")
	errRefused = errors.New("connection refused")
)

// Run implements modules.Module.
func (m Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return modules.Failed(fmt.Errorf("invalid ping parameters: %w", err)), nil
	}
	switch p.Protocol {
	case "tcp", "udp":
	case "icmp":
		// ICMP needs raw sockets (root or a sysctl); omniagent only does tcp and udp.
		return modules.Failed(errors.New("icmp ping is not supported by this agent, use tcp or udp")), nil
	default:
		return modules.Failed(fmt.Errorf("%s is not a supported ping protocol", p.Protocol)), nil
	}
	if p.DestinationPort < 1 || p.DestinationPort > 65535 || p.DestinationPort != float64(int(p.DestinationPort)) {
		return modules.Failed(fmt.Errorf("%s ping requires a valid destination port between 1 and 65535, got %v", p.Protocol, p.DestinationPort)), nil
	}
	if p.Count < 0 || p.Count > 1000 || p.Count != float64(int(p.Count)) {
		return modules.Failed(fmt.Errorf("count must be an integer from 1 to 1000, got %v", p.Count)), nil
	}
	if p.Timeout < 0 || p.Timeout > 3600 {
		return modules.Failed(fmt.Errorf("timeout must be from 0 to 3600 seconds, got %v", p.Timeout)), nil
	}
	if p.Destination == "" {
		return modules.Failed(errors.New("destination is empty")), nil
	}
	if p.Timeout == 0 {
		p.Timeout = 5
	}
	if p.Count == 0 {
		p.Count = 3
	}
	ip, err := m.resolve(ctx, p.Destination)
	if err != nil {
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		return modules.Failed(err), nil
	}
	port := strconv.Itoa(int(p.DestinationPort))
	el := Elements{Protocol: p.Protocol, ResolvedHost: fmt.Sprintf("%s:%s (%s)", p.Destination, port, ip)}
	timeout := time.Duration(p.Timeout * float64(time.Second))
	pause := m.Pause
	if pause == 0 {
		pause = 100 * time.Millisecond
	}
	found := false
	addr := net.JoinHostPort(ip, port)
	for i := range int(p.Count) {
		if i > 0 {
			// MIG waits between probes so a high count is no flood.
			select {
			case <-ctx.Done():
				return modules.Result{}, ctx.Err()
			case <-time.After(pause):
			}
		}
		start := time.Now()
		if p.Protocol == "tcp" {
			err = probeTCP(ctx, addr, timeout)
		} else {
			err = probeUDP(ctx, addr, timeout)
		}
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		latency := float64(time.Since(start).Microseconds()) / 1000
		switch {
		case err == nil:
			found = true
		case errors.Is(err, errTimeout):
			latency = latencyTimeout
			// No UDP answer may mean an open port that stays silent: MIG counts it as found.
			found = found || p.Protocol == "udp"
		case errors.Is(err, errRefused):
			latency = latencyUnreachable
		default:
			latency = latencyError
			el.Failures = append(el.Failures, fmt.Sprintf("ping #%d failed with error: %v", i+1, err))
		}
		el.Latencies = append(el.Latencies, latency)
	}
	return modules.Normalize(modules.Result{FoundAnything: found, Success: true, Elements: el})
}

// resolve returns the first address of a host name, or the destination itself when it is an IP.
func (m Module) resolve(ctx context.Context, dest string) (string, error) {
	if ip := net.ParseIP(dest); ip != nil {
		return ip.String(), nil
	}
	r := m.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupHost(ctx, dest)
	if err != nil {
		return "", fmt.Errorf("resolve destination %q: %w", dest, err)
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("resolve destination %q: no address", dest)
	}
	return addrs[0], nil
}

func classify(err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	case errors.Is(err, syscall.ECONNREFUSED), strings.Contains(err.Error(), "refused"):
		// The text test is MIG's, and catches Windows' WSAECONNREFUSED.
		return errRefused
	}
	return err
}

func probeTCP(ctx context.Context, addr string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return classify(err)
	}
	return c.Close()
}

// probeUDP sends a datagram and waits for any answer: an ICMP port unreachable comes back as
// "connection refused" on the connected socket, silence as a timeout.
func probeUDP(ctx context.Context, addr string, timeout time.Duration) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := c.Write([]byte("Ping!Ping!Ping!")); err != nil {
		return classify(err)
	}
	buf := make([]byte, 1500)
	if _, err := c.Read(buf); err != nil {
		return classify(err)
	}
	return nil
}
