package status

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/state"
)

func TestReportTextAndJSON(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	glpi := config.Server{Name: "glpi", Protocol: "glpi"}
	rec := state.Status{
		LastRun: now.Add(-5 * time.Minute), LastContact: now.Add(-5 * time.Minute), LastResult: "ok, 1 job failed",
		LastSummary: "inventory sent; deploy: 0 job(s) done, 1 failed", LastError: "deploy: job 7: exit status 2", JobsFailed: 1,
		NextRun:  now.Add(10 * time.Minute),
		Schedule: map[string]time.Time{"contact/inventory": now.Add(24 * time.Hour), "deploy poll": now.Add(10 * time.Minute)},
		Details:  map[string]string{"mode": "GLPI (JSON)"},
	}
	mig := config.Server{Name: "mig", Protocol: "mig"}
	running := state.Status{RunningSince: now.Add(-3 * time.Second), LastRun: now.Add(-5 * time.Minute), LastResult: "failed", Failures: 2,
		LastError: "heartbeat: connection refused", Schedule: map[string]time.Time{"heartbeat": now.Add(time.Minute)}, Session: "relay connected"}
	r := Report{SchemaVersion: SchemaVersion, Generated: now, Source: "state", Service: "not installed", Config: "/etc/omniagent/agent.toml",
		StateDir: "/var/lib/omniagent", Servers: []Server{FromRecord(glpi, rec, true), FromRecord(mig, running, true), FromRecord(config.Server{Name: "new", Protocol: "oco"}, state.Status{}, false)}}

	var text bytes.Buffer
	if err := r.WriteText(&text, now); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`service: not installed`,
		`\nglpi \(glpi\)\n  last cycle: +2026-12-03 \d\d:55:00 \(5m ago\), ok, 1 job failed: inventory sent; deploy: 0 job\(s\) done, 1 failed\n`,
		`last error: +deploy: job 7: exit status 2`,
		`next deploy poll: +\S+ \S+ \(in 10m\)`,
		`next contact/inventory: +\S+ \S+ \(in 24h\)`,
		`running since: +\S+ \S+ \(3s ago\)`,
		`failed \(2 in a row\)`,
		`next heartbeat: +\S+ \S+ \(in 1m\)`,
		`session: +relay connected`,
		`new \(oco\)\n  last cycle: +never`,
	} {
		if !regexp.MustCompile(w).MatchString(text.String()) {
			t.Errorf("text lacks %s:\n%s", w, text.String())
		}
	}
	// The deploy poll (sooner) is listed before the contact.
	if strings.Index(text.String(), "next deploy poll") > strings.Index(text.String(), "next contact/inventory") {
		t.Errorf("sub-schedules not in time order:\n%s", text.String())
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	// The documented field names (docs/status.md) are the contract with monitoring systems.
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "generated", "source", "service", "config", "state_dir", "servers"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	servers := doc["servers"].([]any)
	g := servers[0].(map[string]any)
	for _, k := range []string{"name", "protocol", "state", "last_run", "last_contact", "last_result", "last_summary", "last_error", "jobs_failed", "next_run", "schedule", "details"} {
		if _, ok := g[k]; !ok {
			t.Errorf("server JSON lacks %q: %v", k, g)
		}
	}
	if g["state"] != "ok, 1 job failed" || servers[1].(map[string]any)["state"] != "running" || servers[2].(map[string]any)["state"] != "never run" {
		t.Errorf("states: %v / %v / %v", g["state"], servers[1].(map[string]any)["state"], servers[2].(map[string]any)["state"])
	}
	if _, ok := servers[2].(map[string]any)["last_run"]; ok {
		t.Error("a never-run server has a last_run")
	}
}

// TestStaleRunningCycle: a cycle recorded as started long ago (the agent was killed during it)
// is not shown as running.
func TestStaleRunningCycle(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveStatus(state.Status{Server: "a", Protocol: "oco", LastRun: now.Add(-2 * time.Hour), LastResult: "ok", RunningSince: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveStatus(state.Status{Server: "b", Protocol: "oco", RunningSince: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Source: "t.toml", Servers: []config.Server{{Name: "a", Protocol: "oco"}, {Name: "b", Protocol: "oco"}}}
	r := FromState(cfg, "/state", st, "not installed", now)
	if r.Servers[0].State != "ok" || !r.Servers[0].RunningSince.IsZero() || r.Servers[1].State != "running" {
		t.Errorf("servers = %+v", r.Servers)
	}
}
