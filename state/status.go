package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Status is what the scheduler records about one server after each run, for `omniagent status`.
type Status struct {
	Server      string            `json:"server"`
	Protocol    string            `json:"protocol"`
	LastRun     time.Time         `json:"last_run,omitzero"`
	LastContact time.Time         `json:"last_contact,omitzero"` // last run that succeeded
	LastResult  string            `json:"last_result,omitempty"` // "ok", "ok, 1 job failed" or "failed"
	LastError   string            `json:"last_error,omitempty"`
	Failures    int               `json:"consecutive_failures,omitempty"`
	NextRun     time.Time         `json:"next_run,omitzero"`
	Details     map[string]string `json:"details,omitempty"` // adapter-specific: "waiting for acceptance", groups...

	// LastSummary is the last cycle's one-line summary ("inventory sent; 2 jobs run").
	LastSummary string `json:"last_summary,omitempty"`
	// JobsFailed counts the jobs of the last cycle that failed while its exchanges worked.
	JobsFailed int `json:"jobs_failed,omitempty"`
	// RunningSince is when the cycle in progress started; zero when no cycle runs.
	RunningSince time.Time `json:"running_since,omitzero"`
	// Schedule is when each of the protocol's sub-tasks runs next ("hello", "deploy poll").
	Schedule map[string]time.Time `json:"schedule,omitempty"`
	// Session is the state of the long-lived connection (RDFM socket, MIG relay) at the last
	// cycle.
	Session string `json:"session,omitempty"`
}

func (s *Store) statusPath(name string) string {
	return filepath.Join(s.dir, "status", name+".json")
}

// SaveStatus records one server's status atomically.
func (s *Store) SaveStatus(st Status) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode status of %s: %w", st.Server, err)
	}
	return WriteFileAtomic(s.statusPath(st.Server), append(data, '\n'), 0o600)
}

// LoadStatus reads one server's status; found is false when none was recorded yet.
func (s *Store) LoadStatus(name string) (st Status, found bool, err error) {
	data, err := os.ReadFile(s.statusPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read status of %s: %w", name, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, false, fmt.Errorf("status file %s is corrupt: %w", s.statusPath(name), err)
	}
	return st, true, nil
}

// Statuses lists every recorded status, sorted by server name.
func (s *Store) Statuses() ([]Status, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "status"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	var out []Status
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") || strings.HasPrefix(n, ".") {
			continue
		}
		st, ok, err := s.LoadStatus(strings.TrimSuffix(n, ".json"))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out, nil
}
