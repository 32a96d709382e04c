package wintest

import (
	"os"
	"strings"
	"testing"
	"time"
)

// serviceLimit is how long the SCM may take to report a state change (the bound).
const serviceLimit = 10 * time.Second

// scState polls `sc query NAME` until its STATE line names want, or fails after limit.
func (w *wine) scState(t *testing.T, name, want string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last result
	for time.Since(start) < limit {
		last = w.run(t, 30*time.Second, "sc", "query", name)
		if stateLine(last.stdout, want) {
			return time.Since(start)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("service %s not %s within %s; last sc query (exit %d):\n%s%s", name, want, limit, last.code, last.stdout, last.stderr)
	return 0
}

func stateLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "STATE") && strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// serviceLog is what the services wrote through the Event Log API since byte offset from (see
// setup: Wine has no event log store, its ReportEventW prints the strings on the eventlog
// debug channel).
func (w *wine) serviceLog(t *testing.T, from int) string {
	t.Helper()
	b, err := os.ReadFile(w.servicesLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[min(from, len(b)):])
}

// waitLog polls the services' log written since from for want.
func (w *wine) waitLog(t *testing.T, from int, want string, limit time.Duration) bool {
	t.Helper()
	for start := time.Now(); time.Since(start) < limit; time.Sleep(200 * time.Millisecond) {
		if strings.Contains(w.serviceLog(t, from), want) {
			return true
		}
	}
	return false
}

func TestService(t *testing.T) {
	w := need(t)
	mark := len(w.serviceLog(t, 0)) // earlier tests' services wrote there too
	// Start from no config: install must write it (TestMSI keeps one, as documented).
	if err := os.RemoveAll(w.cDrive(`C:\ProgramData\omniagent`)); err != nil {
		t.Fatal(err)
	}
	r := w.agent(t, 60*time.Second, "install")
	if r.code != 0 {
		t.Fatalf("install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { // leave no service behind for the MSI test, whatever failed
		w.run(t, 30*time.Second, "sc", "stop", "omniagent")
		w.run(t, 30*time.Second, "sc", "delete", "omniagent")
	})
	if _, err := os.Stat(w.cDrive(`C:\ProgramData\omniagent\agent.toml`)); err != nil || !strings.Contains(r.stdout, "wrote a default config") {
		t.Errorf("install wrote no default config (%v):\n%s", err, r.stdout)
	}
	// Wine's sc has no qc: read the command line from the service's registry key.
	qc := w.run(t, 30*time.Second, "reg", "query", `HKLM\System\CurrentControlSet\Services\omniagent`, "/v", "ImagePath")
	if !strings.Contains(qc.stdout, `\stage\omniagent.exe run --service`) {
		t.Errorf("service command line lacks `run --service`:\n%s%s", qc.stdout, qc.stderr)
	}
	// The rest of CreateService's configuration, as the SCM stored it, and the Event Log source.
	for v, want := range map[string]string{"Start": "0x2", "DisplayName": "omniagent", "Description": "omniagent endpoint management agent ("} {
		r := w.run(t, 30*time.Second, "reg", "query", `HKLM\System\CurrentControlSet\Services\omniagent`, "/v", v)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("service %s: want %q:\n%s%s", v, want, r.stdout, r.stderr)
		}
	}
	const source = `HKLM\System\CurrentControlSet\Services\EventLog\Application\omniagent`
	if r := w.run(t, 30*time.Second, "reg", "query", source); r.code != 0 {
		t.Errorf("no event log source after install (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	took := w.scState(t, "omniagent", "RUNNING", serviceLimit)
	t.Logf("RUNNING %s after install", took.Round(time.Millisecond))
	if st := w.agent(t, 30*time.Second, "status"); !strings.Contains(st.stdout, "running") {
		t.Errorf("status does not say running (exit %d):\n%s%s", st.code, st.stdout, st.stderr)
	}
	if !w.waitLog(t, mark, "omniagent started", 5*time.Second) {
		t.Errorf("no \"omniagent started\" through the Event Log sink; services' log:\n%s", w.serviceLog(t, mark))
	}
	// Levels map to event types: Wine prints a warning event on its warn channel. The default
	// config has no server, which the agent logs as a warning.
	if !w.waitLog(t, mark, "warn:eventlog:ReportEventW", 5*time.Second) || !strings.Contains(w.serviceLog(t, mark), "no server is configured") {
		t.Errorf("the WARN line did not become a warning event; services' log:\n%s", w.serviceLog(t, mark))
	}
	if r := w.run(t, 30*time.Second, "sc", "stop", "omniagent"); r.code != 0 {
		t.Errorf("sc stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	took = w.scState(t, "omniagent", "STOPPED", serviceLimit)
	t.Logf("STOPPED %s after sc stop", took.Round(time.Millisecond))
	if !w.waitLog(t, mark, "omniagent stopped", 5*time.Second) {
		t.Errorf("clean stop not logged (\"omniagent stopped\"); services' log:\n%s", w.serviceLog(t, mark))
	}
	// start, restart and (inside uninstall) stop through the agent's own SCM calls.
	for _, verb := range []string{"start", "restart"} {
		if r := w.agent(t, 60*time.Second, verb); r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", verb, r.code, r.stdout, r.stderr)
		}
		took = w.scState(t, "omniagent", "RUNNING", serviceLimit)
		t.Logf("RUNNING %s after %s", took.Round(time.Millisecond), verb)
	}
	if st := w.agent(t, 30*time.Second, "status"); !strings.Contains(st.stdout, "service: running") {
		t.Errorf("status after restart (exit %d):\n%s%s", st.code, st.stdout, st.stderr)
	}
	if r := w.agent(t, 60*time.Second, "uninstall"); r.code != 0 {
		t.Fatalf("uninstall: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := w.run(t, 30*time.Second, "sc", "query", "omniagent"); r.code == 0 || stateLine(r.stdout, "") {
		t.Errorf("service still registered after uninstall:\n%s", r.stdout)
	}
	if r := w.run(t, 30*time.Second, "reg", "query", source); r.code == 0 {
		t.Errorf("event log source left after uninstall:\n%s", r.stdout)
	}
}
