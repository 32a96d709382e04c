package progress

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/scheduler"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestLogEveryTenPercentOrTenSeconds: updates every 500 ms of a 100 MiB download at 1 MiB per
// update give a line per 10 % step, and a slow one a line per 10 s, never more.
func TestLogEveryTenPercentOrTenSeconds(t *testing.T) {
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)), c.now)
	tr := l.Start("oco", "pkg.zip")
	const total = 100 << 20
	for i := int64(1); i <= 100; i++ {
		c.add(500 * time.Millisecond)
		tr.Update(jobs.Progress{Bytes: i << 20, Total: total, Percent: float64(i)})
	}
	tr.Done(nil)
	if n := strings.Count(buf.String(), "download progress"); n != 9 { // 10 % ... 90 %; 100 % is the runner's
		t.Errorf("%d lines for 100 updates, want 9:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "server=oco name=pkg.zip bytes=10485760 total=104857600 percent=10 rate=\"2.0 MiB/s\"") {
		t.Errorf("first line:\n%s", buf.String())
	}
	buf.Reset()
	tr = l.Start("rdfm", "update.bin") // unknown size, slow
	for i := int64(1); i <= 60; i++ {
		c.add(time.Second)
		tr.Update(jobs.Progress{Bytes: i << 10, Total: -1, Percent: -1})
	}
	if n := strings.Count(buf.String(), "download progress"); n != 6 {
		t.Errorf("%d lines in 60 s, want 6 (every 10 s):\n%s", n, buf.String())
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9]*[A-Za-z]")

// screen replays what the terminal got: ESC[1A ESC[2K erase the previous line.
func screen(raw string) []string {
	var lines []string
	cur := ""
	for i := 0; i < len(raw); {
		if strings.HasPrefix(raw[i:], "\x1b[1A\x1b[2K") {
			if len(lines) > 0 {
				lines = lines[:len(lines)-1]
			}
			i += len("\x1b[1A\x1b[2K")
			continue
		}
		switch raw[i] {
		case '\n':
			lines = append(lines, cur)
			cur = ""
		case '\r':
		default:
			cur += string(raw[i])
		}
		i++
	}
	return lines
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestTerminalBlock: the block holds a live line per server and a bar per download with bytes,
// rate and ETA; log lines land above it; a finished download leaves one line; Close clears it.
func TestTerminalBlock(t *testing.T) {
	var out syncBuf
	c := &clock{t: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	term := NewTerminal(&out, 100, c.now)
	term.Cycle("oco", nil)
	term.Cycle("glpi", nil)
	b := term.Start("oco", "pkg.zip")
	c.add(2 * time.Second)
	b.Update(jobs.Progress{Bytes: 20 << 20, Total: 40 << 20, Percent: 50})
	term.Write([]byte("level=INFO msg=\"job started\"\n"))
	s := screen(out.String())
	want := []string{
		`^level=INFO msg="job started"$`,
		`^oco: running 2s$`,
		`^glpi: running 2s$`,
		`^  oco: pkg\.zip \[=+>\s+\]  50% 20\.0 MiB/40\.0 MiB 10\.0 MiB/s ETA 2s$`,
	}
	if len(s) != len(want) {
		t.Fatalf("screen:\n%s", strings.Join(s, "\n"))
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(s[i]) {
			t.Errorf("line %d = %q, want %s", i, s[i], re)
		}
	}
	for _, l := range s {
		if len([]rune(l)) >= 100 {
			t.Errorf("line wider than the terminal: %q", l)
		}
	}
	c.add(2 * time.Second)
	b.Update(jobs.Progress{Bytes: 40 << 20, Total: 40 << 20, Percent: 100})
	b.Done(nil)
	term.Cycle("oco", &scheduler.Outcome{Server: "oco", Duration: 4 * time.Second})
	fb := term.Start("glpi", "file.part1")
	fb.Done(errors.New("digest mismatch"))
	term.Close()
	s = screen(out.String())
	got := strings.Join(s, "\n")
	for _, re := range []string{`oco: pkg\.zip: 40\.0 MiB in 4s \(10\.0 MiB/s\)`, `glpi: file\.part1: failed after 0 B: digest mismatch`} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("screen lacks %s:\n%s", re, got)
		}
	}
	if strings.Contains(got, "running") || strings.Contains(got, "[=") {
		t.Errorf("the block was not cleared by Close:\n%s", got)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 20 << 20: "20.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
