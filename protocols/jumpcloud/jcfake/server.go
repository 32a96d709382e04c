// Package jcfake is an in-process fake of JumpCloud's System Context API for tests: it checks
// HTTP signatures with crypto/rsa, the Date window, the eight allowed routes and the own-id
// rule exactly as the adapter reference (shared/protocols/jumpcloud.md §7) lists, and keeps the
// records, groups and associations so tests can see the effect of each call.
package jcfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sudo is a user binding's sudo flags.
type Sudo struct {
	Enabled         bool `json:"enabled"`
	WithoutPassword bool `json:"withoutPassword"`
}

// Attribute is one custom attribute of a system record.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// System is one enrolled system.
type System struct {
	ID          string
	Pub         *rsa.PublicKey
	DisplayName string
	Description string
	Hostname    string
	Attributes  []Attribute
	Tags        []string
	// Users are direct user bindings; GroupUsers are users bound through a user group (shown
	// by /users only).
	Users      map[string]Sudo
	GroupUsers map[string]Sudo
	// Portal marks a system enrolled by a user or MDM: every call gets 401.
	Portal bool
}

// Entry is one request as the fake saw it.
type Entry struct {
	Method, Target, Proto string
	Status                int
	Reason                string // why a 401/400 was given
	Body                  string
}

// Server is the fake. Lock-protected fields are read through Do.
type Server struct {
	mu      sync.Mutex
	now     func() time.Time
	window  time.Duration
	systems map[string]*System
	deleted map[string]bool
	groups  map[string]map[string]bool // group id -> member system ids
	users   map[string]bool
	log     []Entry
	counts  map[string]int
	fail    []int         // statuses to answer the next requests with (429, 503...)
	hang    chan struct{} // while non-nil, requests wait until it is closed or they are cancelled

	HTTP *httptest.Server
}

// Options for New.
type Options struct {
	Now    func() time.Time // default time.Now
	Window time.Duration    // Date tolerance, default 300 s
}

// New builds a fake; call Start or StartTLS.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Window <= 0 {
		o.Window = 300 * time.Second
	}
	return &Server{now: o.Now, window: o.Window, systems: map[string]*System{}, deleted: map[string]bool{},
		groups: map[string]map[string]bool{}, users: map[string]bool{}, counts: map[string]int{}}
}

// Start serves plain HTTP.
func (s *Server) Start() *Server {
	s.HTTP = httptest.NewServer(s)
	return s
}

// StartTLS serves HTTPS, offering HTTP/2 when h2 is set.
func (s *Server) StartTLS(h2 bool) *Server {
	s.HTTP = httptest.NewUnstartedServer(s)
	s.HTTP.EnableHTTP2 = h2
	s.HTTP.StartTLS()
	return s
}

// Close stops the server (releasing any hung request first).
func (s *Server) Close() {
	s.Hang(false)
	if s.HTTP != nil {
		s.HTTP.Close()
	}
}

// URL is the base URL.
func (s *Server) URL() string { return s.HTTP.URL }

// AddSystem enrols a system.
func (s *Server) AddSystem(sys *System) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sys.Users == nil {
		sys.Users = map[string]Sudo{}
	}
	s.systems[sys.ID] = sys
}

// AddGroup creates system groups.
func (s *Server) AddGroup(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.groups[id] == nil {
			s.groups[id] = map[string]bool{}
		}
	}
}

// AddUser creates users.
func (s *Server) AddUser(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.users[id] = true
	}
}

// JoinGroup puts a system in a group as an admin would (not through the API).
func (s *Server) JoinGroup(group, system string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[group] == nil {
		s.groups[group] = map[string]bool{}
	}
	s.groups[group][system] = true
}

// FailNext makes the next len(codes) requests answer with these statuses.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, codes...)
}

// Hang makes requests block (true) until Hang(false) or their cancellation.
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && s.hang == nil {
		s.hang = make(chan struct{})
	}
	if !on && s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
}

// View is a snapshot for tests.
type View struct {
	System  *System // a copy; nil when deleted or unknown
	Deleted bool
	Groups  []string // groups holding the system
	Log     []Entry
	Counts  map[string]int // by "METHOD route", e.g. "PUT /api/systems/{id}"
}

// Inspect returns a snapshot about one system.
func (s *Server) Inspect(id string) View {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := View{Deleted: s.deleted[id], Log: append([]Entry(nil), s.log...), Counts: maps.Clone(s.counts)}
	if sys := s.systems[id]; sys != nil {
		c := *sys
		c.Attributes = append([]Attribute(nil), sys.Attributes...)
		c.Tags = append([]string(nil), sys.Tags...)
		c.Users = maps.Clone(sys.Users)
		c.GroupUsers = maps.Clone(sys.GroupUsers)
		v.System = &c
	}
	for g, m := range s.groups {
		if m[id] {
			v.Groups = append(v.Groups, g)
		}
	}
	slices.Sort(v.Groups)
	return v
}

// ResetLog clears the request log and counters.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.counts = map[string]int{}
}

var (
	hexID     = `[0-9a-f]{24}`
	routeRe   = regexp.MustCompile(`^/api/(?:systems/(` + hexID + `)|v2/systems/(` + hexID + `)/(memberof|associations|users)|v2/systemgroups/([^/]+)/members)$`)
	idRe      = regexp.MustCompile(`^` + hexID + `$`)
	authParam = regexp.MustCompile(`^([a-zA-Z]+)="([^"]*)"$`)
)

type reqErr struct {
	status int
	reason string
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	hang := s.hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	e := Entry{Method: r.Method, Target: r.RequestURI, Proto: r.Proto, Body: string(body)}
	status, out, rerr := s.handle(r, body)
	if rerr != nil {
		status, e.Reason = rerr.status, rerr.reason
		msg := "Unauthorized"
		if status != http.StatusUnauthorized {
			msg = rerr.reason
		}
		out, _ = json.Marshal(map[string]string{"message": msg})
	}
	e.Status = status
	s.log = append(s.log, e)
	if out != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if out != nil {
		_, _ = w.Write(out)
	}
}

func unauthorized(format string, a ...any) *reqErr {
	return &reqErr{http.StatusUnauthorized, fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *reqErr {
	return &reqErr{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// handle runs under s.mu.
func (s *Server) handle(r *http.Request, body []byte) (int, []byte, *reqErr) {
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		return 0, nil, &reqErr{code, "injected failure"}
	}
	sys, err := s.authenticate(r)
	if err != nil {
		return 0, nil, err
	}
	m := routeRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return 0, nil, unauthorized("path %s is not allowed for a system context", r.URL.Path)
	}
	pathID, sub, group := m[1]+m[2], m[3], m[4]
	route := ""
	switch {
	case m[1] != "" && (r.Method == http.MethodGet || r.Method == http.MethodPut || r.Method == http.MethodDelete):
		route = "/api/systems/{id}"
	case sub == "memberof" && r.Method == http.MethodGet, sub == "users" && r.Method == http.MethodGet,
		sub == "associations" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		route = "/api/v2/systems/{id}/" + sub
	case group != "" && r.Method == http.MethodPost:
		route = "/api/v2/systemgroups/{group_id}/members"
	default:
		return 0, nil, unauthorized("%s %s is not allowed for a system context", r.Method, r.URL.Path)
	}
	if pathID != "" && pathID != sys.ID {
		return 0, nil, unauthorized("system %s touched another system %s", sys.ID, pathID)
	}
	s.counts[r.Method+" "+route]++
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return 0, nil, badRequest("Content-Type must be application/json")
		}
	}
	switch r.Method + " " + route {
	case "GET /api/systems/{id}":
		return s.record(sys)
	case "PUT /api/systems/{id}":
		return s.put(sys, body)
	case "DELETE /api/systems/{id}":
		st, out, err := s.record(sys)
		delete(s.systems, sys.ID)
		s.deleted[sys.ID] = true
		for _, g := range s.groups {
			delete(g, sys.ID)
		}
		return st, out, err
	case "GET /api/v2/systems/{id}/memberof":
		var items []any
		for _, g := range sortedKeys(s.groups) {
			if s.groups[g][sys.ID] {
				items = append(items, map[string]any{"id": g, "type": "system_group", "compiledAttributes": map[string]any{},
					"paths": [][]any{{map[string]any{"to": map[string]any{"id": g, "type": "system_group"}}}}})
			}
		}
		return page(r, items)
	case "GET /api/v2/systems/{id}/associations":
		targets := r.URL.Query()["targets"]
		if len(targets) == 0 {
			return 0, nil, badRequest("targets is required")
		}
		var items []any
		if slices.Contains(targets, "user") {
			for _, u := range sortedKeys(sys.Users) {
				items = append(items, map[string]any{"attributes": map[string]any{"sudo": sys.Users[u]},
					"from": map[string]any{"id": sys.ID, "type": "system"}, "to": map[string]any{"id": u, "type": "user"}})
			}
		}
		return page(r, items)
	case "GET /api/v2/systems/{id}/users":
		var items []any
		for _, u := range sortedKeys(sys.Users) {
			items = append(items, map[string]any{"id": u, "type": "user", "compiledAttributes": map[string]any{"sudo": sys.Users[u]},
				"paths": [][]any{{map[string]any{"to": map[string]any{"id": u, "type": "user"}}}}})
		}
		for _, u := range sortedKeys(sys.GroupUsers) {
			if _, direct := sys.Users[u]; direct {
				continue
			}
			items = append(items, map[string]any{"id": u, "type": "user", "compiledAttributes": map[string]any{"sudo": sys.GroupUsers[u]},
				"paths": [][]any{{map[string]any{"to": map[string]any{"id": "ug", "type": "user_group"}}, map[string]any{"to": map[string]any{"id": u, "type": "user"}}}}})
		}
		return page(r, items)
	case "POST /api/v2/systems/{id}/associations":
		return s.associate(sys, body)
	case "POST /api/v2/systemgroups/{group_id}/members":
		return s.member(sys, group, body)
	}
	return 0, nil, unauthorized("unreachable route")
}

// authenticate checks the Authorization header, the signature and the Date.
func (s *Server) authenticate(r *http.Request) (*System, *reqErr) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "Signature ")
	if !ok {
		return nil, unauthorized("no Signature authorization")
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		m := authParam.FindStringSubmatch(strings.TrimSpace(p))
		if m == nil {
			return nil, unauthorized("malformed authorization parameter %q", p)
		}
		params[m[1]] = m[2]
	}
	for _, k := range []string{"keyId", "headers", "algorithm", "signature"} {
		if _, ok := params[k]; !ok {
			return nil, unauthorized("authorization lacks %s", k)
		}
	}
	if params["headers"] != "request-line date" || params["algorithm"] != "rsa-sha256" {
		return nil, unauthorized("headers %q / algorithm %q not accepted", params["headers"], params["algorithm"])
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return nil, unauthorized("signature is not base64")
	}
	id, ok := strings.CutPrefix(params["keyId"], "system/")
	if !ok || !idRe.MatchString(id) {
		return nil, unauthorized("keyId %q is not system/<id>", params["keyId"])
	}
	sys := s.systems[id]
	if sys == nil {
		if s.deleted[id] {
			return nil, unauthorized("system %s was deleted", id)
		}
		return nil, unauthorized("unknown system %s", id)
	}
	date := r.Header.Get("Date")
	signing := r.Method + " " + r.RequestURI + " " + r.Proto + "\ndate: " + date
	sum := sha256.Sum256([]byte(signing))
	if err := rsa.VerifyPKCS1v15(sys.Pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, unauthorized("bad signature over %q", signing)
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return nil, unauthorized("Date %q unparsable", date)
	}
	if d := t.Sub(s.now()); d > s.window || d < -s.window {
		return nil, unauthorized("Date skewed by %s", d.Round(time.Second))
	}
	if sys.Portal {
		return nil, unauthorized("system %s was enrolled by a user or MDM", id)
	}
	return sys, nil
}

func (s *Server) record(sys *System) (int, []byte, *reqErr) {
	attrs := sys.Attributes
	if attrs == nil {
		attrs = []Attribute{}
	}
	out, _ := json.Marshal(map[string]any{"_id": sys.ID, "id": sys.ID, "displayName": sys.DisplayName,
		"description": sys.Description, "hostname": sys.Hostname, "attributes": attrs, "tags": sys.Tags,
		"active": true, "os": "Ubuntu", "agentVersion": "1.150.0"})
	return http.StatusOK, out, nil
}

func (s *Server) put(sys *System, body []byte) (int, []byte, *reqErr) {
	var p struct {
		DisplayName *string      `json:"displayName"`
		Description *string      `json:"description"`
		Attributes  *[]Attribute `json:"attributes"`
		Tags        *[]string    `json:"tags"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return 0, nil, badRequest("body: %v", err)
	}
	if p.DisplayName != nil {
		sys.DisplayName = *p.DisplayName
	}
	if p.Description != nil {
		sys.Description = *p.Description
	}
	if p.Attributes != nil {
		for _, a := range *p.Attributes {
			if a.Name == "" {
				return 0, nil, badRequest("attribute without name")
			}
		}
		sys.Attributes = *p.Attributes
	}
	if p.Tags != nil {
		sys.Tags = *p.Tags
	}
	return s.record(sys)
}

type graphOp struct {
	Op         string `json:"op"`
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes *struct {
		Sudo *struct {
			Enabled         *bool `json:"enabled"`
			WithoutPassword *bool `json:"withoutPassword"`
		} `json:"sudo"`
	} `json:"attributes"`
}

func (s *Server) associate(sys *System, body []byte) (int, []byte, *reqErr) {
	var op graphOp
	if err := json.Unmarshal(body, &op); err != nil {
		return 0, nil, badRequest("body: %v", err)
	}
	if op.Op != "add" && op.Op != "update" && op.Op != "remove" {
		return 0, nil, badRequest("op %q", op.Op)
	}
	switch op.Type {
	case "user":
	case "user_group", "command", "policy", "policy_group":
		return 0, nil, badRequest("the fake only models user associations, got %q", op.Type)
	default:
		return 0, nil, badRequest("type %q", op.Type)
	}
	if !s.users[op.ID] {
		return 0, nil, badRequest("unknown user %q", op.ID)
	}
	var sudo Sudo
	if op.Attributes != nil && op.Attributes.Sudo != nil {
		if op.Attributes.Sudo.Enabled == nil || op.Attributes.Sudo.WithoutPassword == nil {
			return 0, nil, badRequest("sudo needs enabled and withoutPassword")
		}
		sudo = Sudo{*op.Attributes.Sudo.Enabled, *op.Attributes.Sudo.WithoutPassword}
	}
	_, bound := sys.Users[op.ID]
	switch op.Op {
	case "add":
		if bound {
			return 0, nil, &reqErr{http.StatusConflict, "already bound"}
		}
		sys.Users[op.ID] = sudo
	case "update":
		if !bound {
			return 0, nil, badRequest("update of a missing association")
		}
		sys.Users[op.ID] = sudo
	case "remove":
		delete(sys.Users, op.ID)
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) member(sys *System, group string, body []byte) (int, []byte, *reqErr) {
	var op struct{ Op, Type, ID string }
	if err := json.Unmarshal(body, &op); err != nil {
		return 0, nil, badRequest("body: %v", err)
	}
	if op.ID != sys.ID {
		return 0, nil, unauthorized("system %s tried to change the membership of system %s", sys.ID, op.ID)
	}
	if op.Type != "system" {
		return 0, nil, badRequest("type %q, want system", op.Type)
	}
	members := s.groups[group]
	if members == nil {
		return 0, nil, &reqErr{http.StatusNotFound, "unknown group " + group}
	}
	switch op.Op {
	case "add":
		if members[sys.ID] {
			return 0, nil, &reqErr{http.StatusConflict, "already a member"}
		}
		members[sys.ID] = true
	case "remove":
		delete(members, sys.ID)
	case "update":
	default:
		return 0, nil, badRequest("op %q", op.Op)
	}
	return http.StatusNoContent, nil, nil
}

func page(r *http.Request, items []any) (int, []byte, *reqErr) {
	q := r.URL.Query()
	limit, skip := 10, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return 0, nil, badRequest("limit %q: 0 to 100", v)
		}
		limit = n
	}
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, badRequest("skip %q", v)
		}
		skip = n
	}
	if skip > len(items) {
		skip = len(items)
	}
	end := min(skip+limit, len(items))
	out, _ := json.Marshal(append([]any{}, items[skip:end]...))
	return http.StatusOK, out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
