package ping

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

type elements struct {
	Latencies    []float64 `json:"latencies"`
	Protocol     string    `json:"protocol"`
	ResolvedHost string    `json:"resolvedhost"`
	Failures     []string  `json:"failures"`
}

func run(t *testing.T, params string) (bool, bool, elements, []string) {
	t.Helper()
	res, err := Module{Pause: time.Millisecond}.Run(context.Background(), json.RawMessage(params))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	var out struct {
		FoundAnything bool     `json:"foundanything"`
		Success       bool     `json:"success"`
		Elements      elements `json:"elements"`
		Errors        []string `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Success, out.FoundAnything, out.Elements, out.Errors
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		return port
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}

func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	ok, found, el, _ := run(t, fmt.Sprintf(`{"destination":"127.0.0.1","destinationport":%d,"protocol":"tcp","count":2,"timeout":2}`, port))
	if !ok || !found || len(el.Latencies) != 2 || el.Latencies[0] <= 0 || el.Latencies[0] >= 2000 || el.Protocol != "tcp" ||
		el.ResolvedHost != fmt.Sprintf("127.0.0.1:%d (127.0.0.1)", port) || el.Failures != nil {
		t.Fatalf("open port: ok %v found %v %+v", ok, found, el)
	}
	cp := closedPort(t, "tcp")
	ok, found, el, _ = run(t, fmt.Sprintf(`{"destination":"localhost","destinationport":%d,"protocol":"tcp"}`, cp))
	if !ok || found || len(el.Latencies) != 3 || el.Latencies[0] != latencyUnreachable || !strings.HasPrefix(el.ResolvedHost, fmt.Sprintf("localhost:%d (", cp)) {
		t.Fatalf("closed port: ok %v found %v %+v", ok, found, el)
	}
}

func TestUDP(t *testing.T) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = srv.WriteTo(buf[:n], addr)
		}
	}()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	ok, found, el, _ := run(t, fmt.Sprintf(`{"destination":"127.0.0.1","destinationport":%d,"protocol":"udp","count":1,"timeout":2}`, port))
	if !ok || !found || len(el.Latencies) != 1 || el.Latencies[0] <= 0 || el.Latencies[0] == latencyTimeout {
		t.Fatalf("answering udp: %v %v %+v", ok, found, el)
	}
	// A silent listener times out, which MIG counts as "maybe open".
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ok, found, el, _ = run(t, fmt.Sprintf(`{"destination":"127.0.0.1","destinationport":%d,"protocol":"udp","count":1,"timeout":0.2}`, silent.LocalAddr().(*net.UDPAddr).Port))
	if !ok || !found || el.Latencies[0] != latencyTimeout {
		t.Fatalf("silent udp: %v %v %+v", ok, found, el)
	}
	ok, found, el, _ = run(t, fmt.Sprintf(`{"destination":"127.0.0.1","destinationport":%d,"protocol":"udp","count":1,"timeout":2}`, closedPort(t, "udp")))
	if !ok || found || el.Latencies[0] != latencyUnreachable {
		t.Fatalf("closed udp: %v %v %+v", ok, found, el)
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`{"destination":"127.0.0.1","protocol":"icmp"}`, "icmp ping is not supported"},
		{`{"destination":"127.0.0.1","protocol":"sctp","destinationport":1}`, "sctp is not a supported ping protocol"},
		{`{"destination":"127.0.0.1","protocol":"tcp"}`, "valid destination port"},
		{`{"destination":"127.0.0.1","protocol":"tcp","destinationport":70000}`, "valid destination port"},
		{`{"destination":"127.0.0.1","protocol":"tcp","destinationport":80,"count":-1}`, "count must be"},
		{`{"destination":"127.0.0.1","protocol":"tcp","destinationport":80,"timeout":-1}`, "timeout must be"},
		{`{"destination":"","protocol":"tcp","destinationport":80}`, "destination is empty"},
		{`{"destination":"no-such-host.invalid","protocol":"tcp","destinationport":80}`, "resolve destination"},
		{`"x"`, "invalid ping parameters"},
	} {
		ok, found, _, errs := run(t, tc.params)
		if ok || found || len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
			t.Errorf("%s: ok %v errors %q, want %q", tc.params, ok, errs, tc.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Module{}.Run(ctx, json.RawMessage(fmt.Sprintf(`{"destination":"127.0.0.1","destinationport":%d,"protocol":"udp","count":5,"timeout":10}`,
		silent.LocalAddr().(*net.UDPAddr).Port)))
	if err == nil {
		t.Fatal("want the context error")
	}
}
