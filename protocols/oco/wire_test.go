package oco

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNextTimestamp(t *testing.T) {
	for _, tc := range []struct{ now, last, want float64 }{
		{1795340000.12344, 0, 1795340000.1234},
		{1795340000.1234, 1795340000.1234, 1795340000.1244},
		{1000, 2000.5, 2000.501}, // clock went back: keep increasing
	} {
		if got := nextTimestamp(tc.now, tc.last); got != tc.want || got <= tc.last {
			t.Errorf("nextTimestamp(%v, %v) = %v, want %v", tc.now, tc.last, got, tc.want)
		}
	}
	b, _ := json.Marshal(tsNumber(1795340000.1234))
	if string(b) != "1795340000.1234" {
		t.Errorf("timestamp encodes as %s", b)
	}
}

func TestParseJobsLoose(t *testing.T) {
	raw := json.RawMessage(`{"3":{"id":"2","container-id":"1","package-id":"5","download":"1","procedure":"sh x","sequence-mode":"1","restart":"10","shutdown":null,"exit":-1},
		"7":{"id":"dynamic-7","container-id":"deployment_rule::1","package-id":2,"download":false,"procedure":"","sequence-mode":0,"restart":null,"shutdown":null,"exit":0},
		"9":{"container-id":1,"procedure":"x"}}`)
	jobs, err := parseJobs(raw)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("parseJobs: %v %d", err, len(jobs))
	}
	j := jobs[0]
	if j.IDText != "2" || string(j.ID) != `"2"` || !j.Download || j.SequenceMode != 1 || j.Restart == nil || *j.Restart != 10 || j.Shutdown != nil || j.Exit == nil || *j.Exit != -1 {
		t.Errorf("static job read as %+v", j)
	}
	d := jobs[1]
	if d.IDText != "dynamic-7" || d.ContainerKey != "deployment_rule::1" || d.Download || !d.HasProcedure || d.Procedure != "" || *d.Exit != 0 {
		t.Errorf("dynamic job read as %+v", d)
	}
	if !rawIsNull(jobs[2].ID) {
		t.Errorf("job without id: %+v", jobs[2])
	}
	for _, empty := range []string{`[]`, `null`, ``} {
		if js, err := parseJobs(json.RawMessage(empty)); err != nil || len(js) != 0 {
			t.Errorf("parseJobs(%q) = %v, %v", empty, js, err)
		}
	}
	if _, err := parseJobs(json.RawMessage(`"x"`)); err == nil {
		t.Error("a string was accepted as software-jobs")
	}
}

func TestServerErrorSignals(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		legacy bool
	}{
		{401, "Client Not Authorized", true},
		{403, "Client Self-Registration Disabled", true},
		{404, "Computer Not Found", true},
		{401, "Signature header missing", false},
		{401, "Invalid agent signature", false},
		{401, "Agent timestamp too old", false},
		{500, "", false},
	} {
		e := &ServerError{Method: MethodHello, Mode: ModeHMAC, Status: tc.status, Body: tc.body}
		if e.legacySignal() != tc.legacy {
			t.Errorf("%d %q: legacy signal %v", tc.status, tc.body, !tc.legacy)
		}
	}
	e := &ServerError{Method: MethodHello, Mode: ModeHMAC, Status: 401, Body: "Signature header missing"}
	if msg := e.Error(); msg == "" || !strings.Contains(msg, "PHP-CGI") || !strings.Contains(msg, `"Signature header missing"`) {
		t.Errorf("message = %s", msg)
	}
}
