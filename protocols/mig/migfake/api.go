// Package migfake plays the server side of MIG for tests, from shared/protocols/mig.md only:
// the API's two agent routes over httptest (GET /api/v1/ip, POST /api/v1/heartbeat with the
// server's validation and answers, GET /api/v1/heartbeat), and the scheduler on a real RabbitMQ
// broker (exchanges, signed commands with the §3.1 properties, results judged by the
// scheduler's acceptance rules, legacy heartbeats). It also signs actions like an investigator.
package migfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// HTTPHeartbeat is the camelCase heartbeat the API accepts (decoded strictly: an unknown key is
// a decode failure, which catches schema slips such as "queueloc").
type HTTPHeartbeat struct {
	Name        string    `json:"name"`
	Mode        string    `json:"mode"`
	Version     string    `json:"version"`
	PID         int       `json:"pid"`
	QueueLoc    string    `json:"queueLoc"`
	StartTime   time.Time `json:"startTime"`
	RefreshTime time.Time `json:"refreshTime"`
	Environment struct {
		Init      string   `json:"init"`
		Ident     string   `json:"ident"`
		OS        string   `json:"os"`
		Arch      string   `json:"arch"`
		IsProxied bool     `json:"isProxied"`
		Proxy     string   `json:"proxy"`
		Addresses []string `json:"addresses"`
		PublicIP  string   `json:"publicIP"`
		Modules   []string `json:"modules"`
	} `json:"environment"`
	Tags []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"tags"`
}

// Row is the scheduler's agents-table row for one (queueloc, pid).
type Row struct {
	Agent     action.Agent // legacy schema, what commands carry
	Transport string       // "http" or "amqp"
	LastSeen  time.Time    // fake clock time of the last heartbeat
}

type agentKey struct {
	queueLoc string
	pid      int
}

// registry is the agents table shared by the API and the scheduler.
type registry struct {
	mu       sync.Mutex
	rows     map[agentKey]*Row
	nextID   float64
	now      func() time.Time
	idle     time.Duration // online → idle after this long without heartbeat
	offline  time.Duration // idle → offline
	beats    []HTTPHeartbeat
	refusals []string
	changed  chan struct{}
}

func (r *registry) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// upsert records a heartbeat for (queueloc, pid): environment and tags only on first insert.
func (r *registry) upsert(ag action.Agent, transport string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := agentKey{ag.QueueLoc, ag.PID}
	row, ok := r.rows[k]
	if !ok {
		r.nextID++
		ag.ID = 28054714449900 + r.nextID
		ag.DestructionTime = time.Date(9998, 1, 11, 11, 11, 11, 0, time.UTC)
		row = &Row{Agent: ag, Transport: transport}
		r.rows[k] = row
	}
	row.LastSeen = r.now()
	row.Agent.HeartBeatTS = ag.HeartBeatTS
	row.Agent.RefreshTS = ag.RefreshTS
	r.notify()
}

// status is online, idle or offline by the time since the last heartbeat.
func (r *registry) status(row *Row) string {
	age := r.now().Sub(row.LastSeen)
	switch {
	case age <= r.idle:
		return "online"
	case age <= r.offline:
		return "idle"
	}
	return "offline"
}

func (r *registry) refuse(reason string) {
	r.mu.Lock()
	r.refusals = append(r.refusals, reason)
	r.notify()
	r.mu.Unlock()
}

// newAPI serves the MIG API routes the agent uses, under /api/v1.
func newAPI(reg *registry, publicIP func() string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ip", func(w http.ResponseWriter, r *http.Request) {
		// MIG labels the bare address as JSON and adds no newline (§3.6).
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, publicIP())
	})
	mux.HandleFunc("GET /api/v1/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "gatorz say hi\n")
	})
	mux.HandleFunc("POST /api/v1/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		answer := func(code int, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			if msg == "" {
				io.WriteString(w, "{\"error\":null}\n")
				return
			}
			reg.refuse(msg)
			b, _ := json.Marshal(map[string]string{"error": msg})
			w.Write(append(b, '\n'))
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			answer(http.StatusBadRequest, "Failed to decode request body: "+err.Error())
			return
		}
		hb, err := DecodeHTTPHeartbeat(raw)
		if err != nil {
			answer(http.StatusBadRequest, "Failed to decode request body: "+err.Error())
			return
		}
		if reason := ValidateHTTPHeartbeat(hb, reg.now()); reason != "" {
			answer(http.StatusBadRequest, "Missing fields in request body: "+reason)
			return
		}
		reg.mu.Lock()
		reg.beats = append(reg.beats, hb)
		reg.mu.Unlock()
		tags := map[string]string{}
		for _, t := range hb.Tags {
			tags[t.Name] = t.Value
		}
		e := hb.Environment
		reg.upsert(action.Agent{
			Name: hb.Name, QueueLoc: hb.QueueLoc, Mode: hb.Mode, Version: hb.Version, PID: hb.PID,
			StartTime: hb.StartTime, HeartBeatTS: reg.now().UTC(), RefreshTS: hb.RefreshTime,
			Env: action.AgentEnv{
				Init: e.Init, Ident: e.Ident, OS: e.OS, Arch: e.Arch, IsProxied: e.IsProxied,
				Proxy: e.Proxy, Addresses: e.Addresses, PublicIP: e.PublicIP, Modules: e.Modules,
			},
			Tags: tags,
		}, "http")
		answer(http.StatusOK, "")
	})
	return httptest.NewServer(mux)
}

// DecodeHTTPHeartbeat decodes a heartbeat body strictly: unknown keys, trailing data and a
// non-array tags are refused.
func DecodeHTTPHeartbeat(raw []byte) (HTTPHeartbeat, error) {
	var hb HTTPHeartbeat
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hb); err != nil {
		return hb, err
	}
	if dec.More() {
		return hb, fmt.Errorf("trailing data after the JSON object")
	}
	// encoding/json matches keys case-insensitively: check the exact spelling ourselves.
	if err := exactKeys(raw,
		[]string{"name", "mode", "version", "pid", "queueLoc", "startTime", "refreshTime", "environment", "tags"},
		"environment", []string{"init", "ident", "os", "arch", "isProxied", "proxy", "addresses", "publicIP", "modules"}); err != nil {
		return hb, err
	}
	var probe struct {
		Tags        json.RawMessage `json:"tags"`
		Environment struct {
			Addresses json.RawMessage `json:"addresses"`
			Modules   json.RawMessage `json:"modules"`
		} `json:"environment"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return hb, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(probe.Tags), []byte("[")) {
		return hb, fmt.Errorf("tags must be an array, got %s", string(probe.Tags))
	}
	return hb, nil
}

// exactKeys refuses keys of the object (and of its nested object sub) not spelt exactly as
// allowed.
func exactKeys(raw []byte, allowed []string, sub string, subAllowed []string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for k, v := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("json: unknown field %q", k)
		}
		if k == sub && subAllowed != nil {
			if err := exactKeys(v, subAllowed, "", nil); err != nil {
				return fmt.Errorf("%s: %w", sub, err)
			}
		}
	}
	return nil
}

// ValidateHTTPHeartbeat applies the API's checks (§3.4); "" means valid.
func ValidateHTTPHeartbeat(hb HTTPHeartbeat, now time.Time) string {
	var missing []string
	for name, v := range map[string]string{
		"name": hb.Name, "mode": hb.Mode, "version": hb.Version, "queueLoc": hb.QueueLoc,
		"environment.init": hb.Environment.Init, "environment.ident": hb.Environment.Ident,
		"environment.os": hb.Environment.OS, "environment.arch": hb.Environment.Arch,
		"environment.publicIP": hb.Environment.PublicIP,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if hb.PID <= 0 {
		missing = append(missing, "pid")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return "missing field(s): " + strings.Join(missing, ", ")
	}
	switch {
	case hb.Mode != "daemon" && hb.Mode != "checkin":
		return fmt.Sprintf("invalid mode %q", hb.Mode)
	case len(hb.Name) > 1024:
		return "name too long"
	case len(hb.Version) > 128:
		return "version too long"
	case now.Sub(hb.StartTime) > 5*time.Minute:
		return "heartbeat expired"
	}
	return ""
}
