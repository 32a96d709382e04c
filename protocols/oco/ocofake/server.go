// Package ocofake is an in-process OCO server (the agent API of OCO 1.2.2, and a switchable
// 1.1.6 mode) for tests and demos. It checks what the real server checks: the exact
// Content-Type, the signature header by its lower-case name, HMAC both ways, strictly
// increasing timestamps, key issuance on first use, the job state machine with success codes
// and sequence abort, and it answers errors in plain text like the real one.
package ocofake

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TimeLayout is the server's date format.
const TimeLayout = "2006-01-02 15:04:05"

// Options configure the fake.
type Options struct {
	RegistrationKey  string
	SelfRegistration bool
	// Legacy116 answers like OCO 1.1.6: plaintext keys, no timestamps, no signatures,
	// server-key in every answer, the old status codes.
	Legacy116 bool
	// PHPStrings sends integers as strings, as older PHP/database drivers do.
	PHPStrings bool
	// UpdateInterval is the server's agent-update-interval (default 2h).
	UpdateInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Computer is what the server stores about one agent.
type Computer struct {
	Hostname     string
	UID          string
	AgentKey     string
	ServerKey    string
	AgentVersion string
	LastTS       float64
	HasTS        bool
	ForceUpdate  bool // admin "force update"
	LastUpdate   time.Time
	LastPing     time.Time
	Networks     []any
	Inventory    map[string]any
	Logins       []map[string]any
	Updates      int
	Services     []Service
	lastAnswer   []byte
	lastSig      string
}

// Job is one software job.
type Job struct {
	ID           any // int (static) or "dynamic-N"
	ContainerID  any // int or "deployment_rule::N"
	PackageID    int
	Hostname     string
	Download     bool
	Procedure    string
	SequenceMode int
	Restart      *int
	Shutdown     *int
	Exit         *int
	SuccessCodes string
	Priority     int
	Sequence     int
	State        int
	ReturnCode   *int
	Message      string
	// History is every state report, in order ("1@0", "1@101", "2@100", "2", "3").
	History []string
}

// EventRule is a server event-query rule.
type EventRule struct {
	Log   string
	Query string
}

// Event is a stored event.
type Event struct {
	Hostname  string
	Log       string
	Provider  string
	EventID   int
	Level     int
	Timestamp string
	Data      map[string]string
}

// Exchange is one request the fake answered, for assertions.
type Exchange struct {
	Method string
	Status int
	Answer string
}

// Server is the fake OCO server.
type Server struct {
	opts Options

	mu         sync.Mutex
	computers  map[string]*Computer
	jobs       []*Job
	packages   map[int][]byte
	rules      []EventRule
	events     []Event
	pwRules    []PasswordRule
	passwords  []StoredPassword // newest first
	exchanges  []Exchange
	schemaErrs []string
	lastTS     float64
	lastReq    []byte
	lastReqSig string
	// test switches
	replayNext    bool
	truncateNext  bool
	changeKeyNext string
	dropNextFinal bool

	srv    *http.Server
	ln     net.Listener
	url    string
	caPEM  []byte
	closed bool
}

// New returns a fake; call Start or StartTLS.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UpdateInterval == 0 {
		o.UpdateInterval = 2 * time.Hour
	}
	return &Server{opts: o, computers: map[string]*Computer{}, packages: map[int][]byte{}}
}

// StartTLS listens on addr ("127.0.0.1:0" for any port) with a fresh CA; see CAPEM.
func (s *Server) StartTLS(addr string) error { return s.start(addr, true) }

// Start listens on addr in plain HTTP.
func (s *Server) Start(addr string) error { return s.start(addr, false) }

func (s *Server) start(addr string, useTLS bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ocofake: listen: %w", err)
	}
	rl := &recListener{Listener: ln}
	scheme := "http"
	if useTLS {
		cert, caPEM, err := selfSigned()
		if err != nil {
			ln.Close()
			return err
		}
		s.caPEM = caPEM
		// HTTP/1.1 only: the header-name check below needs the names as sent.
		rl.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	s.ln = rl
	s.srv = &http.Server{Handler: s, ConnContext: connContext, ReadHeaderTimeout: 10 * time.Second}
	s.url = scheme + "://" + ln.Addr().String() + "/api-agent.php"
	go s.srv.Serve(rl)
	return nil
}

// URL is the API endpoint.
func (s *Server) URL() string { return s.url }

// CAPEM is the CA certificate (TLS mode) in PEM.
func (s *Server) CAPEM() []byte { return s.caPEM }

// WriteCA writes the CA to path for a ca_file setting.
func (s *Server) WriteCA(path string) error { return os.WriteFile(path, s.caPEM, 0o600) }

// Close stops the server.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// ---- administration, as the web console would do it ----

// AddComputer pre-registers a computer with an empty agent key.
func (s *Server) AddComputer(hostname string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.computers[strings.ToLower(hostname)] = &Computer{Hostname: hostname, AgentVersion: "?"}
}

// Computer returns a copy of a computer's record.
func (s *Server) Computer(hostname string) (Computer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.computers[strings.ToLower(hostname)]
	if !ok {
		return Computer{}, false
	}
	return *c, true
}

// SetForceUpdate sets the admin "force update" flag.
func (s *Server) SetForceUpdate(hostname string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.computers[strings.ToLower(hostname)]; ok {
		c.ForceUpdate = true
	}
}

// ChangeServerKey makes the next answer to this computer carry (and be signed with) another
// server key, as an impostor or a reinstalled server would.
func (s *Server) ChangeServerKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changeKeyNext = key
}

// ReplayNextAnswer makes the next JSON answer a byte-exact copy of the previous answer to
// that computer (valid signature, old timestamp).
func (s *Server) ReplayNextAnswer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replayNext = true
}

// TruncateNextDownload cuts the next download short of its Content-Length.
func (s *Server) TruncateNextDownload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncateNext = true
}

// DropNextFinalReport loses the next final job-state report (state 3 or -1): the connection
// is closed before the server stores it, as a network failure would.
func (s *Server) DropNextFinalReport() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNextFinal = true
}

// RemoveJob deletes a job, as re-evaluating a deployment rule does with dynamic jobs.
func (s *Server) RemoveJob(id any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, j := range s.jobs {
		if fmt.Sprint(j.ID) == fmt.Sprint(id) {
			s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
			return
		}
	}
}

// AddPackage stores a package payload (a ZIP).
func (s *Server) AddPackage(id int, zip []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packages[id] = zip
}

// AddJob adds a job (state 0) and returns its id.
func (s *Server) AddJob(j Job) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.State = 0
	cp := j
	s.jobs = append(s.jobs, &cp)
	return cp.ID
}

// Job returns a copy of a job.
func (s *Server) Job(id any) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.findJob(fmt.Sprint(id)); j != nil {
		cp := *j
		cp.History = append([]string(nil), j.History...)
		return cp, true
	}
	return Job{}, false
}

// AddEventRule adds an event query rule.
func (s *Server) AddEventRule(r EventRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, r)
}

// Events returns the stored events.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Exchanges returns every answered request.
func (s *Server) Exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exchange(nil), s.exchanges...)
}

// SchemaErrors lists inventory fields whose type differs from what the server expects.
func (s *Server) SchemaErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.schemaErrs...)
}

// LastRequest is the last signed JSON request as received (body and signature header).
func (s *Server) LastRequest() ([]byte, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.lastReq...), s.lastReqSig
}

// ---- protocol ----

type httpError struct {
	status int
	body   string
}

func fail(status int, body string) *httpError { return &httpError{status, body} }

func newKey() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 30)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) writeError(w http.ResponseWriter, method string, e *httpError) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(e.status)
	io.WriteString(w, e.body)
	s.exchanges = append(s.exchanges, Exchange{Method: method, Status: e.status, Answer: e.body})
}

// ServeHTTP is the api-agent.php endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var header []byte
	rc, _ := r.Context().Value(connKey{}).(*rawConn)
	if rc != nil {
		header = rc.takeHeader()
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if rc != nil {
		rc.consume(len(body))
	}
	s.mu.Lock()
	unlocked := false
	defer func() {
		if !unlocked {
			s.mu.Unlock()
		}
	}()
	if r.Method == http.MethodGet && r.URL.Query().Get("id") != "" {
		s.legacyDownload(w, r, &unlocked)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		s.writeError(w, "", fail(400, s.pick("Content type mismatch", "Parameter Mismatch")))
		return
	}
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&env) != nil {
		s.writeError(w, "", fail(400, s.pick("Invalid JSON data", "Parameter Mismatch")))
		return
	}
	method, _ := env["method"].(string)
	params, _ := env["params"].(map[string]any)
	hostname, _ := params["hostname"].(string)
	if env["jsonrpc"] != "2.0" || env["id"] == nil || method == "" || params == nil || hostname == "" {
		s.writeError(w, method, fail(400, s.pick("Invalid JSON data", "Parameter Mismatch")))
		return
	}
	sig, hasSig := rawHeader(header, "x-oco-agent-signature")
	if !hasSig && rc == nil {
		sig, hasSig = r.Header.Get("x-oco-agent-signature"), r.Header.Get("x-oco-agent-signature") != ""
	}
	s.lastReq, s.lastReqSig = body, sig
	c, answerParams, herr := s.authenticate(method, params, body, sig, hasSig)
	if herr != nil {
		s.writeError(w, method, herr)
		return
	}
	data, _ := params["data"].(map[string]any)
	var res any
	switch method {
	case "oco.agent.hello":
		res, herr = s.hello(c, data, answerParams)
	case "oco.agent.update":
		res, herr = s.update(c, params["data"], answerParams)
	case "oco.agent.update_job_state":
		if st, _ := number(data["state"]); s.dropNextFinal && (st == 3 || st == -1) {
			s.dropNextFinal = false
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
		}
		res, herr = s.jobState(c, data, answerParams)
	case "oco.agent.events":
		res, herr = s.storeEvents(c, data)
	case "oco.agent.passwords":
		res, herr = s.storePasswords(c, params)
	case "oco.agent.download":
		s.download(w, c, params["package-id"], &unlocked)
		return
	default:
		herr = fail(400, s.pick("Unknown method", "Parameter Mismatch"))
	}
	if herr != nil {
		s.writeError(w, method, herr)
		return
	}
	s.answer(w, c, method, env["id"], res)
}

func (s *Server) pick(current, legacy string) string {
	if s.opts.Legacy116 {
		return legacy
	}
	return current
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// authenticate finds or registers the computer and checks HMAC or the legacy key.
func (s *Server) authenticate(method string, params map[string]any, body []byte, sig string, hasSig bool) (*Computer, map[string]any, *httpError) {
	hostname := params["hostname"].(string)
	data, _ := params["data"].(map[string]any)
	dataVer, hasVer := data["agent_version"].(string)
	extra := map[string]any{}
	c := s.computers[strings.ToLower(hostname)]
	if c == nil {
		if method != "oco.agent.hello" {
			return nil, nil, fail(s.status(401, 404), s.pick("Computer not found", "Computer Not Found"))
		}
		if !s.opts.SelfRegistration {
			return nil, nil, fail(s.status(401, 403), s.pick("Client self-registration is disabled", "Client Self-Registration Disabled"))
		}
		legacy := s.opts.Legacy116 || (hasVer && versionCompare(dataVer, "1.1.7") < 0)
		if legacy {
			if k, _ := params["agent-key"].(string); k != s.opts.RegistrationKey {
				return nil, nil, fail(401, s.pick("Agent registration key mismatch", "Client Not Authorized"))
			}
		} else {
			if !hasSig {
				return nil, nil, fail(401, "Signature header missing")
			}
			if !hmac.Equal([]byte(sig), []byte(sign(s.opts.RegistrationKey, body))) {
				return nil, nil, fail(401, "Invalid agent signature")
			}
		}
		c = &Computer{Hostname: hostname, AgentKey: newKey(), ServerKey: newKey(), AgentVersion: "?"}
		if uid, ok := params["uid"].(string); ok {
			c.UID = uid
		}
		if ts, ok := number(params["timestamp"]); ok {
			c.LastTS, c.HasTS = ts, true
		}
		s.computers[strings.ToLower(hostname)] = c
		extra["agent-key"], extra["server-key"] = c.AgentKey, c.ServerKey
		return c, extra, nil
	}
	legacy := s.opts.Legacy116 || (versionCompare(c.AgentVersion, "1.1.7") < 0 && (!hasVer || versionCompare(dataVer, "1.1.7") < 0))
	key := c.AgentKey
	preRegistered := key == ""
	if preRegistered {
		key = s.opts.RegistrationKey
	}
	if legacy {
		if k, _ := params["agent-key"].(string); k != key {
			msg := "Agent key mismatch"
			if preRegistered {
				msg = "Agent registration key mismatch"
			}
			return nil, nil, fail(401, s.pick(msg, "Client Not Authorized"))
		}
	} else {
		if !hasSig {
			return nil, nil, fail(401, "Signature header missing")
		}
		if !hmac.Equal([]byte(sig), []byte(sign(key, body))) {
			return nil, nil, fail(401, "Invalid agent signature")
		}
		ts, ok := number(params["timestamp"])
		if !ok || (c.HasTS && ts <= c.LastTS) {
			return nil, nil, fail(401, "Agent timestamp too old")
		}
		c.LastTS, c.HasTS = ts, true
	}
	if preRegistered {
		c.AgentKey = newKey()
		extra["agent-key"] = c.AgentKey
	}
	if c.ServerKey == "" {
		c.ServerKey = newKey()
		extra["server-key"] = c.ServerKey
	}
	if legacy {
		extra["server-key"] = c.ServerKey
		if method == "oco.agent.hello" {
			extra["agent-key"] = c.AgentKey
		}
	}
	if u, ok := params["uid"].(string); ok && u != "" {
		c.UID = u
	}
	return c, extra, nil
}

func (s *Server) status(current, legacy int) int {
	if s.opts.Legacy116 {
		return legacy
	}
	return current
}

func (s *Server) num(n int) any {
	if s.opts.PHPStrings {
		return strconv.Itoa(n)
	}
	return n
}

func (s *Server) hello(c *Computer, data map[string]any, p map[string]any) (any, *httpError) {
	now := s.opts.Now()
	c.LastPing = now
	if v, ok := data["agent_version"].(string); ok {
		c.AgentVersion = v
	}
	if n, ok := data["networks"].([]any); ok {
		c.Networks = n
	}
	s.upsertServices(c, data["services"])
	force, _ := data["force_update"].(bool)
	update := c.Updates == 0 || force || c.ForceUpdate || now.Sub(c.LastUpdate) > s.opts.UpdateInterval
	p["update"] = s.num(map[bool]int{true: 1, false: 0}[update])
	since := "1970-01-01 00:00:00"
	for _, l := range c.Logins {
		if ts, _ := l["timestamp"].(string); ts > since {
			since = ts
		}
	}
	p["logins-since"] = since
	var offered []*Job
	for _, j := range s.jobs {
		if strings.EqualFold(j.Hostname, c.Hostname) && j.State >= 0 && j.State <= 2 {
			offered = append(offered, j)
		}
	}
	sort.SliceStable(offered, func(a, b int) bool {
		if offered[a].Priority != offered[b].Priority {
			return offered[a].Priority > offered[b].Priority
		}
		return offered[a].Sequence < offered[b].Sequence
	})
	jobs := []any{}
	for _, j := range offered {
		id := j.ID
		if n, ok := id.(int); ok {
			id = s.num(n)
		}
		cid := j.ContainerID
		if n, ok := cid.(int); ok {
			cid = s.num(n)
		}
		jobs = append(jobs, map[string]any{
			"id": id, "container-id": cid, "package-id": s.num(j.PackageID), "download": j.Download,
			"procedure": j.Procedure, "sequence-mode": s.num(j.SequenceMode),
			"restart": j.Restart, "shutdown": j.Shutdown, "exit": j.Exit,
		})
	}
	p["software-jobs"] = jobs
	evSince := "1970-01-01 00:00:00"
	for _, e := range s.events {
		if e.Hostname == c.Hostname && e.Timestamp > evSince {
			evSince = e.Timestamp
		}
	}
	rules := []any{}
	for _, r := range s.rules {
		rules = append(rules, map[string]any{"since": evSince, "log": r.Log, "query": r.Query})
	}
	p["events"] = rules
	p["update-passwords"] = s.passwordRequests(c)
	return map[string]any{"success": true, "params": p}, nil
}

// checkType records a schema violation: the adapter must send the server's types.
func (s *Server) checkType(path string, v any, kinds ...string) {
	got := "null"
	switch v.(type) {
	case string:
		got = "string"
	case json.Number:
		got = "number"
	case bool:
		got = "bool"
	case []any:
		got = "array"
	case map[string]any:
		got = "object"
	}
	for _, k := range kinds {
		if k == got {
			return
		}
	}
	s.schemaErrs = append(s.schemaErrs, fmt.Sprintf("%s: got %s, want %s", path, got, strings.Join(kinds, "|")))
}

var (
	scalarTypes = map[string][]string{
		"hostname": {"string"}, "os": {"string"}, "os_version": {"string"}, "os_license": {"string"},
		"os_language": {"string"}, "kernel_version": {"string"}, "architecture": {"string"},
		"cpu": {"string"}, "gpu": {"string"}, "ram": {"number"}, "agent_version": {"string"},
		"serial": {"string"}, "manufacturer": {"string"}, "model": {"string"}, "bios_version": {"string"},
		"uptime": {"number"}, "battery_level": {"number", "bool"}, "battery_status": {"number", "bool"},
		"boot_type": {"string"}, "secure_boot": {"string", "number"}, "domain": {"string"},
	}
	listTypes = map[string]map[string][]string{
		"networks":   {"addr": {"string"}, "netmask": {"string"}, "broadcast": {"string"}, "mac": {"string"}, "interface": {"string"}},
		"screens":    {"name": {"string"}, "manufacturer": {"string"}, "manufactured": {"string"}, "resolution": {"string"}, "size": {"string"}, "type": {"string"}, "serialno": {"string"}, "technology": {"string"}},
		"printers":   {"name": {"string"}, "driver": {"string"}, "paper": {"string"}, "dpi": {"string"}, "uri": {"string"}, "status": {"string"}},
		"partitions": {"device": {"string"}, "mountpoint": {"string"}, "filesystem": {"string"}, "size": {"number"}, "free": {"number"}, "name": {"string"}, "uuid": {"string"}, "encrypted": {"bool"}},
		"software":   {"name": {"string"}, "version": {"string"}, "description": {"string"}},
		"logins":     {"guid": {"string", "null"}, "display_name": {"string"}, "username": {"string"}, "console": {"string"}, "timestamp": {"string"}},
		"users":      {"username": {"string"}, "display_name": {"string"}, "uid": {"string", "number"}, "gid": {"string", "number", "null"}, "home": {"string"}, "shell": {"string"}, "disabled": {"bool"}},
		"devices":    {"subsystem": {"string"}, "vendor": {"number"}, "product": {"number"}, "serial": {"string"}, "name": {"string"}},
	}
)

func (s *Server) update(c *Computer, raw any, p map[string]any) (any, *httpError) {
	data, ok := raw.(map[string]any)
	if !ok || len(data) == 0 {
		return nil, fail(400, s.pick("Invalid JSON data", "Parameter Mismatch"))
	}
	now := s.opts.Now()
	if c.ForceUpdate && now.Sub(c.LastUpdate) < 25*time.Second {
		return nil, fail(400, "Update refused (too often or invalid data)")
	}
	for uid := c.UID; uid != ""; uid = "" {
		for _, o := range s.computers {
			if o != c && o.UID == uid {
				return nil, fail(500, "") // UNIQUE constraint on uid
			}
		}
	}
	for k, v := range data {
		if kinds, ok := scalarTypes[k]; ok {
			s.checkType(k, v, kinds...)
		}
	}
	for list, fields := range listTypes {
		v, present := data[list]
		if !present {
			continue
		}
		items, ok := v.([]any)
		if !ok {
			s.checkType(list, v, "array")
			continue
		}
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				s.checkType(fmt.Sprintf("%s[%d]", list, i), it, "object")
				continue
			}
			for f, kinds := range fields {
				s.checkType(fmt.Sprintf("%s[%d].%s", list, i, f), m[f], kinds...)
			}
			// NOT NULL columns: the real server fails with an exception.
			if list == "software" && m["version"] == nil && m["name"] != "" {
				return nil, fail(500, "")
			}
			if list == "partitions" && m["free"] == nil {
				return nil, fail(500, "")
			}
			if list == "logins" && (m["username"] == nil || m["console"] == nil || m["timestamp"] == nil) {
				return nil, fail(500, "")
			}
		}
	}
	inv := map[string]any{}
	for k, v := range data {
		inv[k] = v
	}
	var nets []any
	if n, ok := data["networks"].([]any); ok {
		for _, e := range n {
			if m, ok := e.(map[string]any); ok && m["addr"] != "" && m["addr"] != nil {
				nets = append(nets, e)
			}
		}
	}
	inv["networks"] = nets
	c.Inventory = inv // full replace
	c.Networks = nets
	if v, ok := data["agent_version"].(string); ok {
		c.AgentVersion = v
	} else {
		c.AgentVersion = "?" // switches the computer to legacy checks
	}
	if ls, ok := data["logins"].([]any); ok {
		for _, l := range ls {
			if m, ok := l.(map[string]any); ok {
				c.Logins = append(c.Logins, m)
			}
		}
	}
	c.ForceUpdate = false
	c.LastUpdate = now
	c.Updates++
	p["policies"] = map[string]any{"machine": []any{}}
	return map[string]any{"success": true, "params": p}, nil
}

func (s *Server) findJob(id string) *Job {
	for _, j := range s.jobs {
		if fmt.Sprint(j.ID) == id {
			return j
		}
	}
	return nil
}

func (s *Server) jobState(c *Computer, data map[string]any, p map[string]any) (any, *httpError) {
	rawID, hasID := data["job-id"]
	stateN, okState := number(data["state"])
	rcRaw, hasRC := data["return-code"]
	msg, okMsg := data["message"].(string)
	if !hasID || !okState || !hasRC || !okMsg {
		return nil, fail(400, s.pick("Invalid JSON data", "Parameter Mismatch"))
	}
	id := fmt.Sprint(rawID)
	j := s.findJob(id)
	if j == nil {
		return nil, fail(s.status(400, 404), s.pick("Job »"+id+"« not found", "Job Not Found"))
	}
	if !strings.EqualFold(j.Hostname, c.Hostname) {
		return nil, fail(s.status(401, 403), s.pick("Computer not allowed to update job »"+id+"«", "Forbidden"))
	}
	state := int(stateN)
	var rc *int
	if f, ok := number(rcRaw); ok {
		n := int(f)
		rc = &n
	}
	entry := strconv.Itoa(state)
	if f, ok := number(data["download-progress"]); ok {
		entry += "@" + strconv.FormatFloat(f, 'f', -1, 64)
	}
	if state == 2 && msg != "" {
		entry += "+output"
	}
	j.History = append(j.History, entry)
	if state == 3 {
		var codes []int
		for _, part := range strings.Split(j.SuccessCodes, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(part)); err == nil {
				codes = append(codes, n)
			}
		}
		ok := len(codes) == 0
		for _, code := range codes {
			if rc != nil && *rc == code {
				ok = true
			}
		}
		if !ok {
			state = -1
		}
	}
	j.State, j.ReturnCode, j.Message = state, rc, msg
	if state == -1 && j.SequenceMode == 1 {
		if _, static := j.ContainerID.(int); static {
			for _, o := range s.jobs {
				if o != j && o.ContainerID == j.ContainerID && o.State == 0 {
					o.State, o.ReturnCode, o.Message = -1, ptr(-8888), "Aborted after failed job"
				}
			}
		}
	}
	p["job-succeeded"] = j.State == 3
	return map[string]any{"success": true, "params": p}, nil
}

func ptr(n int) *int { return &n }

func (s *Server) storeEvents(c *Computer, data map[string]any) (any, *httpError) {
	list, ok := data["events"].([]any)
	if !ok {
		return nil, fail(400, s.pick("Invalid JSON data", "Parameter Mismatch"))
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		ev := Event{Hostname: c.Hostname, EventID: -1, Level: -1, Data: map[string]string{}}
		ev.Log, _ = m["log"].(string)
		if ev.Log == "" {
			continue
		}
		ev.Provider, _ = m["provider"].(string)
		if ev.Timestamp, ok = m["timestamp"].(string); !ok {
			return nil, fail(400, s.pick("Invalid JSON data", "Parameter Mismatch"))
		}
		if f, ok := number(m["event_id"]); ok {
			ev.EventID = int(f)
		}
		if f, ok := number(m["level"]); ok {
			ev.Level = int(f)
		}
		if d, ok := m["data"].(map[string]any); ok {
			for k, v := range d {
				ev.Data[k] = fmt.Sprint(v)
			}
		}
		dup := false
		for _, o := range s.events {
			if o.Hostname == ev.Hostname && o.Log == ev.Log && o.Provider == ev.Provider && o.EventID == ev.EventID && o.Level == ev.Level && o.Timestamp == ev.Timestamp && fmt.Sprint(o.Data) == fmt.Sprint(ev.Data) {
				dup = true
			}
		}
		if !dup {
			s.events = append(s.events, ev)
		}
	}
	return map[string]any{"success": strconv.Itoa(len(s.events)), "params": []any{}}, nil
}

func (s *Server) nextServerTS() float64 {
	now := float64(s.opts.Now().UnixMicro()) / 1e6
	if now <= s.lastTS {
		now = s.lastTS + 0.000001
	}
	s.lastTS = math.Round(now*1e6) / 1e6
	return s.lastTS
}

// answer writes a signed 200 answer (no jsonrpc member, error null).
func (s *Server) answer(w http.ResponseWriter, c *Computer, method string, id any, res any) {
	m := res.(map[string]any)
	key := c.ServerKey
	if s.changeKeyNext != "" {
		key = s.changeKeyNext
		if p, ok := m["params"].(map[string]any); ok {
			p["server-key"] = key
		}
		s.changeKeyNext = ""
	}
	if !s.opts.Legacy116 {
		m["timestamp"] = json.Number(strconv.FormatFloat(s.nextServerTS(), 'f', -1, 64))
	}
	body, _ := phpJSON(struct {
		ID     any `json:"id"`
		Error  any `json:"error"`
		Result any `json:"result"`
	}{id, nil, orderedResult(m)})
	sig := sign(key, body)
	if s.replayNext && c.lastAnswer != nil {
		body, sig = c.lastAnswer, c.lastSig
		s.replayNext = false
	} else {
		c.lastAnswer, c.lastSig = body, sig
	}
	w.Header().Set("Content-Type", "application/json")
	if !s.opts.Legacy116 {
		w.Header()["x-oco-server-signature"] = []string{sig}
	}
	w.WriteHeader(200)
	w.Write(body)
	s.exchanges = append(s.exchanges, Exchange{Method: method, Status: 200, Answer: string(body)})
}

// orderedResult keeps success, params, timestamp in the server's order.
func orderedResult(m map[string]any) any {
	type withTS struct {
		Success   any         `json:"success"`
		Params    any         `json:"params"`
		Timestamp json.Number `json:"timestamp"`
	}
	type noTS struct {
		Success any `json:"success"`
		Params  any `json:"params"`
	}
	if ts, ok := m["timestamp"].(json.Number); ok {
		return withTS{m["success"], m["params"], ts}
	}
	return noTS{m["success"], m["params"]}
}

func (s *Server) activeJob(c *Computer, pkg int) bool {
	for _, j := range s.jobs {
		if strings.EqualFold(j.Hostname, c.Hostname) && j.PackageID == pkg && j.State >= 0 && j.State <= 2 {
			return true
		}
	}
	return false
}

func (s *Server) download(w http.ResponseWriter, c *Computer, raw any, unlocked *bool) {
	f, ok := number(raw)
	if !ok {
		if str, isStr := raw.(string); isStr {
			n, err := strconv.Atoi(str)
			f, ok = float64(n), err == nil
		}
	}
	if !ok {
		s.writeError(w, "oco.agent.download", fail(400, "Invalid JSON data"))
		return
	}
	pkg := int(f)
	if !s.activeJob(c, pkg) {
		s.writeError(w, "oco.agent.download", fail(400, "No active job for this package"))
		return
	}
	s.sendPackage(w, pkg, "oco.agent.download", unlocked)
}

func (s *Server) sendPackage(w http.ResponseWriter, pkg int, method string, unlocked *bool) {
	payload, ok := s.packages[pkg]
	if !ok {
		s.writeError(w, method, fail(400, "Package not found"))
		return
	}
	truncate := s.truncateNext
	s.truncateNext = false
	s.exchanges = append(s.exchanges, Exchange{Method: method, Status: 200, Answer: fmt.Sprintf("<%d bytes>", len(payload))})
	// Stream without the lock: the agent reports progress on another connection meanwhile.
	s.mu.Unlock()
	*unlocked = true
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strconv.Itoa(pkg)+".zip"))
	w.WriteHeader(200)
	if truncate {
		w.Write(payload[:len(payload)/2])
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	w.Write(payload)
}

// legacyDownload is GET ?id=&hostname=&uid=&agent-key= (≤ 1.1.6, still accepted by 1.2.2).
func (s *Server) legacyDownload(w http.ResponseWriter, r *http.Request, unlocked *bool) {
	q := r.URL.Query()
	c := s.computers[strings.ToLower(q.Get("hostname"))]
	if c == nil {
		w.WriteHeader(404) // "Not Found", empty body
		s.exchanges = append(s.exchanges, Exchange{Method: "legacy-download", Status: 404})
		return
	}
	if c.AgentKey == "" || q.Get("agent-key") != c.AgentKey {
		w.WriteHeader(401) // "Client Not Authorized"
		s.exchanges = append(s.exchanges, Exchange{Method: "legacy-download", Status: 401, Answer: "Client Not Authorized"})
		return
	}
	pkg, err := strconv.Atoi(q.Get("id"))
	if err != nil || !s.activeJob(c, pkg) {
		w.WriteHeader(401) // "No Active Job"
		s.exchanges = append(s.exchanges, Exchange{Method: "legacy-download", Status: 401, Answer: "No Active Job"})
		return
	}
	s.sendPackage(w, pkg, "legacy-download", unlocked)
}
