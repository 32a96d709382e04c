package collectors

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// testdata/darwin/utmpx is /var/run/utmpx as macOS keeps it: a signature record, the boot
// record, jane on the console and on ttys001 (ssh), her closed ttys000 slot, admin2 over ssh.

func TestParseUtmpxFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/darwin/utmpx")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ParseUtmpx(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || recs[0].Type != 10 || recs[0].User != "utmpx-1.00" || recs[1].Type != UtmpBootTime {
		t.Fatalf("records = %+v", recs)
	}
	if r := recs[4]; r.User != "jane" || r.Line != "ttys001" || r.Host != "10.1.2.3" || r.PID != 1733 || r.ID != "s001" ||
		!r.Time.Equal(time.Unix(1764500000, 250000*1000)) {
		t.Errorf("ttys001 = %+v", r)
	}
	sessions := SessionsFromUtmp(recs)
	want := []inventory.UserSession{
		{User: "jane", Console: "console", Since: time.Unix(1764490090, 500000*1000).UTC()},
		{User: "jane", Console: "ttys001", Remote: "10.1.2.3", Since: time.Unix(1764500000, 250000*1000).UTC()},
		{User: "admin2", Console: "ttys002", Remote: "mbp.example.com", Since: time.Unix(1764501000, 0).UTC()},
	}
	if !reflect.DeepEqual(sessions, want) {
		t.Errorf("sessions =\n%+v\nwant\n%+v", sessions, want)
	}
	logins := LoginsFromUtmp(recs, time.Unix(1764495000, 0))
	if len(logins) != 2 || logins[0].Console != "ttys001" || logins[1].User != "admin2" {
		t.Errorf("logins since = %+v", logins)
	}
	if _, err := ParseUtmpx(b[:700]); !errors.Is(err, ErrTruncatedUtmp) {
		t.Errorf("truncated: err = %v", err)
	}
}

func FuzzParseUtmpx(f *testing.F) {
	if b, err := os.ReadFile("testdata/darwin/utmpx"); err == nil {
		f.Add(b)
		f.Add(b[:641])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ParseUtmpx(b)
		if err != nil && !errors.Is(err, ErrTruncatedUtmp) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if len(recs) > len(b)/640 {
			t.Fatalf("%d records from %d bytes", len(recs), len(b))
		}
		for _, s := range SessionsFromUtmp(recs) {
			if s.User == "" {
				t.Fatalf("session without user: %+v", s)
			}
		}
		for _, l := range LoginsFromUtmp(recs, time.Time{}) {
			if l.Duration < 0 || l.User == "" {
				t.Fatalf("bad login %+v", l)
			}
		}
	})
}
