package collectors

import (
	"errors"
	"testing"
	"time"
)

// testdata/linux/wtmp was written by util-linux `utmpdump -r`; `last -f` on it shows the
// durations checked here.
func TestParseUtmpWtmp(t *testing.T) {
	b := readFixture(t, "wtmp")
	recs, err := ParseUtmp(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10", len(recs))
	}
	bob := recs[4]
	if bob.Type != UtmpUserProcess || bob.User != "bob" || bob.Line != "pts/0" || bob.Host != "203.0.113.7" || bob.Addr != "203.0.113.7" || bob.PID != 1234 {
		t.Errorf("bob = %+v", bob)
	}
	if want := time.Date(2026, 3, 1, 9, 0, 0, 250_000_000, time.UTC); !bob.Time.Equal(want) {
		t.Errorf("bob time = %v, want %v", bob.Time, want)
	}
	if recs[6].Addr != "2001:db8::5" {
		t.Errorf("IPv6 addr = %q", recs[6].Addr)
	}
	if recs[0].Type != UtmpBootTime || recs[0].User != "reboot" {
		t.Errorf("boot record = %+v", recs[0])
	}

	logins := LoginsFromUtmp(recs, time.Time{})
	want := []struct {
		user, console, remote string
		dur                   time.Duration
	}{
		{"alice", "tty1", "", 33*time.Hour + 55*time.Minute}, // ended by the shutdown
		{"bob", "pts/0", "203.0.113.7", 90 * time.Minute},    // logout record
		{"carol", "pts/1", "2001:db8::5", 10*time.Hour + 45*time.Minute},
		{"alice", "tty1", "", 0}, // still logged in
	}
	if len(logins) != len(want) {
		t.Fatalf("logins = %+v", logins)
	}
	for i, w := range want {
		l := logins[i]
		if l.User != w.user || l.Console != w.console || l.Remote != w.remote || time.Duration(l.Duration*float64(time.Second)).Round(time.Second) != w.dur {
			t.Errorf("login %d = %+v, want %+v", i, l, w)
		}
	}
	since := LoginsFromUtmp(recs, time.Date(2026, 3, 1, 9, 0, 0, 250_000_000, time.UTC))
	if len(since) != 2 || since[0].User != "carol" {
		t.Errorf("since bob's login = %+v", since)
	}
	if s := SessionsFromUtmp(recs); len(s) != 4 {
		t.Errorf("sessions from user records = %d", len(s))
	}
}

func TestParseUtmpTruncated(t *testing.T) {
	b := readFixture(t, "wtmp")
	recs, err := ParseUtmp(b[:len(b)-10])
	if !errors.Is(err, ErrTruncatedUtmp) || len(recs) != 9 {
		t.Errorf("truncated: %d records, err %v", len(recs), err)
	}
}

// darwinUtmpxRecord builds one macOS utmpx record as <utmpx.h> lays it out.
func darwinUtmpxRecord(user, line, host string, typ int16, sec int64) []byte {
	r := make([]byte, 640)
	copy(r[0:], user)
	copy(r[260:], line)
	r[292] = 42
	r[296] = byte(typ)
	for i := range 8 {
		r[304+i] = byte(sec >> (8 * i))
	}
	copy(r[320:], host)
	return r
}

func TestParseUtmpx(t *testing.T) {
	b := append(darwinUtmpxRecord("dave", "ttys000", "10.1.2.3", UtmpUserProcess, 1767225600),
		darwinUtmpxRecord("", "", "", UtmpBootTime, 1767225000)...)
	recs, err := ParseUtmpx(b)
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	r := recs[0]
	if r.User != "dave" || r.Line != "ttys000" || r.Host != "10.1.2.3" || r.PID != 42 || !r.Time.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("record = %+v", r)
	}
}

func FuzzParseUtmp(f *testing.F) {
	f.Add(readFixture(f, "wtmp"))
	f.Add(readFixture(f, "wtmp")[:400])
	f.Add([]byte{})
	f.Add(darwinUtmpxRecord("u", "console", "", UtmpUserProcess, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ParseUtmp(b)
		if len(recs) > len(b)/384 {
			t.Fatalf("%d records from %d bytes", len(recs), len(b))
		}
		if err != nil && !errors.Is(err, ErrTruncatedUtmp) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		for _, l := range LoginsFromUtmp(recs, time.Time{}) {
			if l.Duration < 0 || l.User == "" {
				t.Fatalf("bad login %+v", l)
			}
		}
		if _, err := ParseUtmpx(b); err != nil && !errors.Is(err, ErrTruncatedUtmp) {
			t.Fatalf("utmpx: %v", err)
		}
	})
}
