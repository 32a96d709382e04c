package collectors

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/inventory"
)

func TestLoginsFromLogonEvents(t *testing.T) {
	b, err := os.ReadFile("testdata/windows/security-4624.xml")
	if err != nil {
		t.Fatal(err)
	}
	var evs []eventlog.Event
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		ev, err := eventlog.ParseWindowsEventXML(line, "Security")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	got := loginsFromLogonEvents(evs)
	want := []inventory.Login{
		{User: `CORP\jdoe`, Console: "cached", Time: time.Date(2026, 11, 28, 18, 2, 0, 0, time.UTC)},
		{User: `CORP\jdoe`, Console: "console", Time: time.Date(2026, 11, 29, 7, 30, 12, 421000000, time.UTC)},
		{User: `CORP\jdoe`, Console: "rdp", Remote: "192.168.1.77", Time: time.Date(2026, 11, 30, 8, 15, 2, 555000000, time.UTC)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logins =\n%+v\nwant\n%+v", got, want)
	}
	if l := loginsFromLogonEvents(nil); l != nil {
		t.Errorf("no events gave %+v", l)
	}
}
