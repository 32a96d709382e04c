package oco_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
)

// dnsServer answers _oco._tcp.<domain> SRV queries with target:port over UDP.
func dnsServer(t *testing.T, domain, target string, port uint16) (addr string, queries *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no UDP socket for the fake DNS server: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	queries = &atomic.Int32{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var msg dnsmessage.Message
			if msg.Unpack(buf[:n]) != nil || len(msg.Questions) == 0 {
				continue
			}
			q := msg.Questions[0]
			resp := dnsmessage.Message{Header: dnsmessage.Header{ID: msg.ID, Response: true, Authoritative: true}, Questions: msg.Questions}
			if q.Type == dnsmessage.TypeSRV && strings.EqualFold(q.Name.String(), "_oco._tcp."+domain+".") {
				queries.Add(1)
				resp.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeSRV, Class: dnsmessage.ClassINET, TTL: 60},
					Body:   &dnsmessage.SRVResource{Priority: 10, Weight: 1, Port: port, Target: dnsmessage.MustNewName(target + ".")},
				}}
			} else {
				resp.RCode = dnsmessage.RCodeNameError
			}
			out, err := resp.Pack()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	return pc.LocalAddr().String(), queries
}

func TestSRVDiscoveryResolvedOnce(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(e.fake.URL(), "/api-agent.php"), "https://"))
	p, _ := strconv.Atoi(port)
	addr, queries := dnsServer(t, "corp.example", "localhost", uint16(p))
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	noURL := func(s *config.Server, o *oco.Options) { s.URL, o.SRVDomain = "", "corp.example" }
	a := e.adapter(noURL)
	oco.SetResolver(a, resolver)
	res, err := a.Cycle(context.Background())
	if err != nil {
		t.Fatalf("cycle through SRV discovery: %v", err)
	}
	want := "https://localhost:" + port + "/api-agent.php"
	if res.Details["url"] != want || readState(t, e.stateDir)["api_url"] != want {
		t.Fatalf("url = %q, want %q", res.Details["url"], want)
	}
	// A restarted agent uses the persisted URL and does not query DNS again.
	a2 := e.adapter(noURL)
	oco.SetResolver(a2, resolver)
	if _, err := a2.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("SRV queried %d times, want once", n)
	}
}
