package eventlog

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseJournalFilter(t *testing.T) {
	tests := []struct {
		in      string
		matches []string
		grep    bool
		err     string
	}{
		{`{"unit":"ssh.service,cron","priority":"3"}`, []string{"_SYSTEMD_UNIT=ssh.service", "_SYSTEMD_UNIT=cron.service", "PRIORITY=3"}, false, ""},
		{`{"identifier":"sshd","priority":2,"grep":"fail(ed)?"}`, []string{"SYSLOG_IDENTIFIER=sshd", "PRIORITY=2"}, true, ""},
		{``, nil, false, ""},
		{`{"unit":["x"]}`, nil, false, "must be a string"},
		{`{"priority":"9"}`, nil, false, "not 0-7"},
		{`{"grep":"("}`, nil, false, "grep"},
		{`<QueryList/>`, nil, false, "not a JSON object"},
	}
	for _, tc := range tests {
		f, err := ParseJournalFilter(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(f.Matches(), tc.matches) || (f.Grep != nil) != tc.grep {
			t.Errorf("%s: matches %v grep %v", tc.in, f.Matches(), f.Grep)
		}
	}
}

func TestParseJournalFixture(t *testing.T) {
	fh, err := os.Open("testdata/journal.json")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := ParseJournalFilter(`{"unit":"ssh","priority":"0,1,2,3","grep":"fail|error"}`)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Unix(1699999999, 500)
	evs, err := ParseJournal(fh, f, since, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2: %+v", len(evs), evs)
	}
	e := evs[0]
	if e.Log != "ssh.service" || e.Provider != "sshd" || *e.Level != 3 || *e.EventID != 4 || !e.Timestamp.Equal(time.Unix(1700000000, 0)) || !strings.HasPrefix(e.Data["message"], "error: kex") {
		t.Errorf("first event = %+v", e)
	}
	if evs[1].Data["message"] != "failed\uFFFD" || evs[1].EventID != nil {
		t.Errorf("binary message event = %+v", evs[1])
	}
	// No filter: everything after since, the unit-less entry logged as "journalctl"; limit holds.
	fh.Seek(0, 0)
	all, err := ParseJournal(fh, JournalFilter{}, since, 0)
	if err != nil || len(all) != 5 || all[4].Log != JournalLog {
		t.Fatalf("unfiltered: %d events, %v; last %+v", len(all), err, all[len(all)-1])
	}
	fh.Seek(0, 0)
	two, _ := ParseJournal(fh, JournalFilter{}, since, 2)
	if len(two) != 2 {
		t.Fatalf("limit 2 gave %d", len(two))
	}
}

func TestParseWindowsEventXML(t *testing.T) {
	data, err := os.ReadFile("testdata/event-1130.xml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseWindowsEventXML(data, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2022, 10, 5, 16, 21, 5, 123456700, time.UTC)
	if ev.Log != "System" || ev.Provider != "Microsoft-Windows-GroupPolicy" || *ev.EventID != 1130 || *ev.Level != 2 || !ev.Timestamp.Equal(want) {
		t.Errorf("event = %+v", ev)
	}
	if ev.Data["ScriptName"] != `\\example.com\scripts\logon.cmd` || ev.Data["ErrorCode"] != "2" || len(ev.Data) != 3 {
		t.Errorf("data = %v", ev.Data)
	}
	if _, err := ParseWindowsEventXML([]byte("<Event><System><TimeCreated SystemTime='x'/></System></Event>"), "System"); err == nil {
		t.Error("bad TimeCreated accepted")
	}
	if _, err := ParseWindowsEventXML([]byte("<Event"), "System"); err == nil {
		t.Error("truncated XML accepted")
	}
}
