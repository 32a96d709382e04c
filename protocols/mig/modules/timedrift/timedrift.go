// Package timedrift is MIG's timedrift module: it returns the local time and, when a drift is
// given, compares it with NTP servers (those of the local NTP configuration, then a public
// pool), stopping at the first that answers.
package timedrift

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// backupPool is MIG's fallback list.
var backupPool = []string{"time.nist.gov", "0.pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org", "3.pool.ntp.org"}

// confFiles are read for "server"/"pool" lines (MIG read only /etc/ntp.conf, and reported its
// absence as an error that failed the module; we read the common daemons' files and stay quiet).
var confFiles = []string{"/etc/ntp.conf", "/etc/chrony.conf", "/etc/chrony/chrony.conf", "/etc/openntpd/ntpd.conf"}

// Module is the timedrift module. Servers, when set, replaces the configured servers and the
// pool ("host" or "host:port"); Now is the local clock (nil: time.Now); QueryTimeout bounds one
// NTP query (0: MIG's 5 s).
type Module struct {
	Servers      []string
	Now          func() time.Time
	QueryTimeout time.Duration
}

// Params are MIG's timedrift parameters.
type Params struct {
	Drift string `json:"drift"`
}

// Elements are the module's elements.
type Elements struct {
	HasCheckedDrift bool     `json:"hascheckeddrift"`
	IsWithinDrift   bool     `json:"iswithindrift,omitempty"`
	Drifts          []string `json:"drifts,omitempty"`
	LocalTime       string   `json:"localtime"`
}

// Statistics are the module's statistics.
type Statistics struct {
	ExecTime string     `json:"exectime"`
	NtpStats []NtpStats `json:"ntpstats,omitempty"`
}

// NtpStats is one server's answer.
type NtpStats struct {
	Host      string    `json:"host"`
	Time      time.Time `json:"time"`
	Latency   string    `json:"latency"`
	Drift     string    `json:"drift"`
	Reachable bool      `json:"reachable"`
}

// Run implements modules.Module.
func (m Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	start := time.Now()
	el := Elements{LocalTime: now().Format(time.RFC3339Nano)}
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return modules.Failed(fmt.Errorf("invalid timedrift parameters: %w", err)), nil
	}
	var stats Statistics
	if p.Drift == "" {
		// Without a drift MIG only reports the local time.
		stats.ExecTime = time.Since(start).String()
		return modules.Normalize(modules.Result{FoundAnything: true, Success: true, Elements: el, Statistics: stats})
	}
	drift, err := time.ParseDuration(p.Drift)
	if err != nil || drift < 0 {
		return modules.Failed(fmt.Errorf("invalid drift %q: want a positive Go duration such as 5s", p.Drift)), nil
	}
	servers := m.Servers
	if len(servers) == 0 {
		servers = append(configuredServers(), backupPool...)
	}
	el.IsWithinDrift = true
	for _, srv := range servers {
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		t, lat, err := m.query(ctx, srv)
		if err != nil {
			stats.NtpStats = append(stats.NtpStats, NtpStats{Host: srv})
			continue
		}
		local := now()
		if local.Before(t.Add(-drift)) {
			el.IsWithinDrift = false
			el.Drifts = append(el.Drifts, fmt.Sprintf("Local time is behind ntp host %s by %s", srv, t.Sub(local)))
		} else if local.After(t.Add(drift)) {
			el.IsWithinDrift = false
			el.Drifts = append(el.Drifts, fmt.Sprintf("Local time is ahead of ntp host %s by %s", srv, local.Sub(t)))
		}
		stats.NtpStats = append(stats.NtpStats, NtpStats{Host: srv, Time: t, Latency: lat.String(),
			Drift: local.Sub(t).String(), Reachable: true})
		el.HasCheckedDrift = true
		break
	}
	if ctx.Err() != nil {
		return modules.Result{}, ctx.Err()
	}
	stats.ExecTime = time.Since(start).String()
	res := modules.Result{FoundAnything: !el.IsWithinDrift, Success: el.HasCheckedDrift, Elements: el, Statistics: stats}
	if !el.HasCheckedDrift {
		el.IsWithinDrift = false
		res.Elements = el
		res.Errors = []string{"no NTP server answered"}
	}
	return modules.Normalize(res)
}

// configuredServers reads the local NTP daemons' server and pool lines.
func configuredServers() []string {
	var out []string
	for _, f := range confFiles {
		fd, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fd)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && (fields[0] == "server" || fields[0] == "pool" || fields[0] == "servers") {
				out = append(out, fields[1])
			}
		}
		fd.Close()
	}
	return out
}

// ntpEpochUnix is 1900-01-01T00:00:00Z, the NTP era 0 origin, in Unix seconds.
const ntpEpochUnix = -2208988800

// ntpEpoch is a function, not a package variable: time.Date there would run at every start.
func ntpEpoch() time.Time { return time.Unix(ntpEpochUnix, 0).UTC() }

// query sends an SNTP v3 client request and returns the server's transmit time and the round
// trip.
func (m Module) query(ctx context.Context, host string) (time.Time, time.Duration, error) {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, "123")
	}
	timeout := m.QueryTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	start := time.Now()
	c, err := d.DialContext(qctx, "udp", addr)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("dial ntp %s: %w", addr, err)
	}
	defer c.Close()
	dl, _ := qctx.Deadline()
	if err := c.SetDeadline(dl); err != nil {
		return time.Time{}, 0, err
	}
	req := make([]byte, 48)
	req[0] = 3<<3 | 3 // version 3, mode client
	if _, err := c.Write(req); err != nil {
		return time.Time{}, 0, fmt.Errorf("send ntp request to %s: %w", addr, err)
	}
	resp := make([]byte, 512)
	n, err := c.Read(resp)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read ntp answer from %s: %w", addr, err)
	}
	lat := time.Since(start)
	if n < 48 {
		return time.Time{}, 0, fmt.Errorf("short ntp answer from %s: %d bytes", addr, n)
	}
	if mode := resp[0] & 7; mode != 4 && mode != 5 {
		return time.Time{}, 0, fmt.Errorf("ntp answer from %s has mode %d, want server", addr, mode)
	}
	sec := binary.BigEndian.Uint32(resp[40:44])
	frac := binary.BigEndian.Uint32(resp[44:48])
	if sec == 0 {
		return time.Time{}, 0, errors.New("null response received from NTP host")
	}
	nsec := (uint64(frac) * 1e9) >> 32
	t := ntpEpoch().Add(time.Duration(sec) * time.Second).Add(time.Duration(nsec))
	return t, lat, nil
}
