// Package status builds what `omniagent status` shows: one Report, filled from the state
// directory (what the last cycles recorded) or from a running daemon, printed as text for a
// person or as one JSON document for a monitoring system (schema in docs/status.md).
package status

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/state"
)

// SchemaVersion is the version of the JSON document; it changes only when a field changes
// meaning or disappears (new fields may appear in the same version).
const SchemaVersion = 1

// Report is the whole status.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Generated     time.Time `json:"generated"`
	// Source is where the server states come from: "state" (files the daemon wrote after each
	// cycle) or "daemon" (asked the running agent).
	Source   string `json:"source"`
	Service  string `json:"service"` // "running", "stopped", "not installed", "unknown (...)"
	Config   string `json:"config"`
	StateDir string `json:"state_dir"`
	// Update is the last self-update of the agent binary ("" when none): installed and
	// waiting to prove healthy, confirmed, or rolled back.
	Update  string   `json:"update,omitempty"`
	Servers []Server `json:"servers"`
}

// Server is one configured server.
type Server struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Disabled bool   `json:"disabled,omitempty"`
	// State is "never run", "running", or the last result: "ok", "ok, N jobs failed", "failed".
	State        string    `json:"state"`
	RunningSince time.Time `json:"running_since,omitzero"`
	LastRun      time.Time `json:"last_run,omitzero"`
	LastContact  time.Time `json:"last_contact,omitzero"` // last cycle whose exchanges worked
	LastResult   string    `json:"last_result,omitempty"`
	LastSummary  string    `json:"last_summary,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	JobsFailed   int       `json:"jobs_failed,omitempty"`
	// ConsecutiveFailures counts the failed cycles in a row (back-off grows with it).
	ConsecutiveFailures int       `json:"consecutive_failures,omitempty"`
	NextRun             time.Time `json:"next_run,omitzero"`
	// Schedule is when each sub-task runs next: "hello" (OCO), "contact/inventory" and
	// "deploy poll" (GLPI), "update check" (RDFM), "heartbeat" (MIG), "check-in" (JumpCloud).
	Schedule map[string]time.Time `json:"schedule,omitempty"`
	// Session is the long-lived connection's state: RDFM socket, MIG relay.
	Session string            `json:"session,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	// Error is set when this server's status could not be read.
	Error string `json:"error,omitempty"`
}

// staleRunning is past the scheduler's cycle limit (30 min): a cycle that started longer ago
// was cut short by an agent stop, and is no longer shown as running.
const staleRunning = 31 * time.Minute

// FromRecord fills a Server from what the scheduler recorded.
func FromRecord(s config.Server, rec state.Status, found bool) Server {
	out := Server{Name: s.Name, Protocol: s.Protocol, Disabled: s.Disabled, State: "never run"}
	if !found {
		return out
	}
	out.RunningSince, out.LastRun, out.LastContact, out.NextRun = rec.RunningSince, rec.LastRun, rec.LastContact, rec.NextRun
	out.LastResult, out.LastSummary, out.LastError = rec.LastResult, rec.LastSummary, rec.LastError
	out.JobsFailed, out.ConsecutiveFailures = rec.JobsFailed, rec.Failures
	out.Schedule, out.Session, out.Details = rec.Schedule, rec.Session, rec.Details
	switch {
	case !rec.RunningSince.IsZero():
		out.State = "running"
	case rec.LastResult != "":
		out.State = rec.LastResult
	}
	return out
}

// FromState builds the report from the state directory; store may be nil (no state yet).
func FromState(cfg *config.Config, stateDir string, store *state.Store, service string, now time.Time) Report {
	r := Report{SchemaVersion: SchemaVersion, Generated: now.UTC(), Source: "state", Service: service, Config: cfg.Source, StateDir: stateDir, Servers: []Server{}}
	for _, s := range cfg.Servers {
		if store == nil {
			r.Servers = append(r.Servers, FromRecord(s, state.Status{}, false))
			continue
		}
		rec, ok, err := store.LoadStatus(s.Name)
		if !rec.RunningSince.IsZero() && now.Sub(rec.RunningSince) > staleRunning {
			rec.RunningSince = time.Time{} // the agent stopped during that cycle
		}
		srv := FromRecord(s, rec, ok && err == nil)
		if err != nil {
			srv.Error = err.Error()
		}
		r.Servers = append(r.Servers, srv)
	}
	return r
}

// WriteJSON prints the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText prints the report for a person, times in the local zone with how long ago or
// until when.
func (r Report) WriteText(w io.Writer, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "service: %s\nconfig:  %s\nstate:   %s\n", r.Service, r.Config, r.StateDir)
	if r.Update != "" {
		fmt.Fprintf(&b, "update:  %s\n", r.Update)
	}
	// Each server's values line up (a line without a tab ends a tabwriter column block).
	tw := tabwriter.NewWriter(&b, 0, 4, 1, ' ', 0)
	if len(r.Servers) == 0 {
		fmt.Fprintln(&b, "\nno server configured: the agent only collects the inventory")
	}
	for _, s := range r.Servers {
		fmt.Fprintf(tw, "\n%s (%s)", s.Name, s.Protocol)
		if s.Disabled {
			fmt.Fprint(tw, " disabled")
		}
		fmt.Fprintln(tw)
		line := func(label, value string) {
			if value != "" {
				fmt.Fprintf(tw, "  %s:\t%s\n", label, value)
			}
		}
		if s.Error != "" {
			line("error", s.Error)
			continue
		}
		if !s.RunningSince.IsZero() {
			line("running since", when(s.RunningSince, now))
		}
		if s.LastRun.IsZero() {
			line("last cycle", "never")
		} else {
			res := s.LastResult
			if s.ConsecutiveFailures > 1 {
				res += fmt.Sprintf(" (%d in a row)", s.ConsecutiveFailures)
			}
			if s.LastSummary != "" {
				res += ": " + s.LastSummary
			}
			line("last cycle", when(s.LastRun, now)+", "+res)
		}
		if !s.LastContact.IsZero() && !s.LastContact.Equal(s.LastRun) {
			line("last contact", when(s.LastContact, now))
		}
		line("last error", s.LastError)
		keys := make([]string, 0, len(s.Schedule))
		for k := range s.Schedule {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return s.Schedule[keys[i]].Before(s.Schedule[keys[j]]) })
		for _, k := range keys {
			line("next "+k, when(s.Schedule[k], now))
		}
		if len(keys) == 0 && !s.NextRun.IsZero() {
			line("next run", when(s.NextRun, now))
		}
		line("session", s.Session)
		dk := make([]string, 0, len(s.Details))
		for k := range s.Details {
			dk = append(dk, k)
		}
		sort.Strings(dk)
		for _, k := range dk {
			line(k, s.Details[k])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// when is "2026-12-03 08:00:00 (5m ago)" or "(in 23h55m)".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := t.Sub(now).Round(time.Second)
	rel := "now"
	switch {
	case d > 0:
		rel = "in " + short(d)
	case d < 0:
		rel = short(-d) + " ago"
	}
	return t.Local().Format("2006-01-02 15:04:05") + " (" + rel + ")"
}

// short prints a duration without trailing zero units: 23h55m, 5m, 12s.
func short(d time.Duration) string {
	if d >= time.Minute {
		d = d.Round(time.Minute)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
