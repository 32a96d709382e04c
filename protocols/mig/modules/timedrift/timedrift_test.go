package timedrift

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules/moduletest"
)

// ntpServer answers SNTP requests with the local time shifted by offset.
func ntpServer(t *testing.T, offset time.Duration) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 || buf[0]&7 != 3 {
				continue
			}
			resp := make([]byte, 48)
			resp[0] = 3<<3 | 4
			resp[1] = 2
			tx := time.Now().Add(offset).Sub(ntpEpoch())
			binary.BigEndian.PutUint32(resp[40:], uint32(tx/time.Second))
			binary.BigEndian.PutUint32(resp[44:], uint32((uint64(tx%time.Second)<<32)/1e9))
			_, _ = c.WriteTo(resp, addr)
		}
	}()
	return c.LocalAddr().String()
}

type result struct {
	FoundAnything bool     `json:"foundanything"`
	Success       bool     `json:"success"`
	Elements      Elements `json:"elements"`
	Statistics    struct {
		ExecTime string `json:"exectime"`
		NtpStats []struct {
			Host      string    `json:"host"`
			Time      time.Time `json:"time"`
			Latency   string    `json:"latency"`
			Drift     string    `json:"drift"`
			Reachable bool      `json:"reachable"`
		} `json:"ntpstats"`
	} `json:"statistics"`
	Errors []string `json:"errors"`
}

func run(t *testing.T, m Module, params string) (result, string) {
	return moduletest.Run[result](t, m, params)
}

func TestDrift(t *testing.T) {
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := closed.LocalAddr().String()
	closed.Close()
	inSync := ntpServer(t, 0)
	ahead := ntpServer(t, time.Hour)
	behind := ntpServer(t, -time.Hour)
	q := 300 * time.Millisecond

	r, b := run(t, Module{Servers: []string{dead, inSync}, QueryTimeout: q}, `{"drift":"5s"}`)
	if !r.Success || r.FoundAnything || !r.Elements.HasCheckedDrift || !r.Elements.IsWithinDrift || len(r.Statistics.NtpStats) != 2 ||
		r.Statistics.NtpStats[0].Reachable || !r.Statistics.NtpStats[1].Reachable || r.Statistics.NtpStats[1].Host != inSync {
		t.Fatalf("in sync after a dead server: %s", b)
	}
	if d := time.Since(r.Statistics.NtpStats[1].Time); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("reported time off by %s", d)
	}
	if strings.Contains(b, "iswithindrift\":false") || !strings.Contains(b, `"hascheckeddrift":true,"iswithindrift":true,"localtime":"`) {
		t.Fatalf("element keys: %s", b)
	}

	r, b = run(t, Module{Servers: []string{ahead}, QueryTimeout: q}, `{"drift":"5s"}`)
	if !r.Success || !r.FoundAnything || r.Elements.IsWithinDrift || len(r.Elements.Drifts) != 1 ||
		!strings.HasPrefix(r.Elements.Drifts[0], "Local time is behind ntp host "+ahead+" by 59m") {
		t.Fatalf("server ahead: %s", b)
	}
	r, b = run(t, Module{Servers: []string{behind}, QueryTimeout: q}, `{"drift":"5s"}`)
	if !r.FoundAnything || !strings.HasPrefix(r.Elements.Drifts[0], "Local time is ahead of ntp host "+behind+" by 1h0m") {
		t.Fatalf("server behind: %s", b)
	}
	r, b = run(t, Module{Servers: []string{dead}, QueryTimeout: q}, `{"drift":"5s"}`)
	if r.Success || r.Elements.HasCheckedDrift || len(r.Errors) != 1 {
		t.Fatalf("nobody answers: %s", b)
	}
}

func TestNoDriftOnlyLocalTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 5, time.UTC)
	r, b := run(t, Module{Servers: []string{"192.0.2.1"}, Now: func() time.Time { return now }}, `{}`)
	if !r.Success || !r.FoundAnything || r.Elements.HasCheckedDrift || r.Elements.LocalTime != "2026-11-22T09:00:00.000000005Z" ||
		r.Statistics.NtpStats != nil {
		t.Fatalf("%s", b)
	}
}

func TestInvalid(t *testing.T) {
	for _, p := range []string{`{"drift":"5 parsecs"}`, `{"drift":"-1s"}`, `{"drift":5}`} {
		r, b := run(t, Module{Servers: []string{"192.0.2.1"}}, p)
		if r.Success || len(r.Errors) != 1 {
			t.Errorf("%s: %s", p, b)
		}
	}
}
