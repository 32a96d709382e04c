// Package glpifake is an in-process GLPI 10.0.12 server with the glpiinventory plugin, for
// tests: the core inventory endpoint (PROLOG, CONTACT, INVENTORY validated against the real
// inventory_format schemas, error answers as GLPI gives them), a FusionInventory XML mode, the
// draft REGISTER exchange and the plugin's deploy REST API.
package glpifake

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/omniagent/omniagent/protocols/glpi"
)

// maxBody bounds a decompressed request.
const maxBody = 64 << 20

// Inventory is one accepted inventory.
type Inventory struct {
	DeviceID string
	Partial  bool
	Tag      string
	Encoding string // Content-Type received
	Content  map[string]any
	Raw      []byte
	XML      bool
}

// Server is the fake. Set the switches before the agent talks to it.
type Server struct {
	*httptest.Server

	mu sync.Mutex
	// Switches.
	XMLMode           bool // FusionInventory-era server: answers XML, never JSON
	Plugin            bool // glpiinventory active: CONTACT announces deploy
	BrotliOK          bool // GLPI with the brotli extension; else 500 as 10.0.12
	Busy              int  // answer "busy server" to the next N inventories
	Fail5xx           int  // answer 503 to the next N inventories
	InventoryDisabled bool
	ContactPending    bool // CONTACT answers {"status":"pending"} (a proxy's answer)
	ContactExpiration any  // default "24"
	BusyExpiration    any  // default "30m"
	RegisterMode      bool
	Register          RegisterConfig
	CorruptPart       string // sha512 of a part served with wrong bytes
	DeadMirrorFirst   bool   // list an unreachable mirror before the real one (set before AddJob)

	// Records.
	Inventories []Inventory
	Rejected    []string // 400 messages sent
	Prologs     int
	Contacts    []map[string]any
	Statuses    []url.Values
	Requests    []string // "METHOD path?query" of every request
	AgentIDs    map[string]string
	// Jobs handed out by getJobs, keyed by deviceid (all devices when key is "*").
	jobs  map[string][]any
	files map[string]any
	parts map[string][]byte
	done  map[string]bool

	schemas  []*jsonschema.Schema
	reg      regState
	attempts []AgentAttempt // calls to agents' listeners (RequestAgent)
}

// CompileSchema compiles an inventory_format schema with a complete JSON Schema
// implementation, independent of the subset the agent validates with (protocols/glpi/invschema),
// so the fake catches what the agent's own check would miss.
func CompileSchema(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	id := "https://glpi-project.org/inventory.json"
	if m, ok := doc.(map[string]any); ok {
		if s, ok := m["$id"].(string); ok && s != "" {
			id = s
		}
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
}

// New starts the fake.
func New() (*Server, error) {
	s := &Server{jobs: map[string][]any{}, files: map[string]any{}, parts: map[string][]byte{}, done: map[string]bool{}, AgentIDs: map[string]string{}}
	for _, name := range []string{glpi.SchemaCurrent, glpi.SchemaStrict32} {
		raw, err := glpi.SchemaFile(name)
		if err != nil {
			return nil, err
		}
		sch, err := CompileSchema(raw)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		s.schemas = append(s.schemas, sch)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests = append(s.Requests, r.Method+" "+r.URL.RequestURI())
	w.Header().Set("Cache-Control", "no-cache,no-store")
	w.Header().Set("Pragma", "no-cache")
	if id := r.Header.Get("GLPI-Agent-ID"); id != "" {
		w.Header().Set("GLPI-Agent-ID", id)
	}
	if id := r.Header.Get("GLPI-Request-ID"); id != "" {
		w.Header().Set("GLPI-Request-ID", id)
	}
	plugin := strings.Contains(r.URL.Path, "/glpiinventory")
	if r.Method == http.MethodGet {
		if plugin && s.Plugin {
			s.servePlugin(w, r)
			return
		}
		if r.URL.Query().Get("action") == "getConfig" {
			jsonError(w, "", 400, "Protocol not supported")
			return
		}
		if r.URL.Path == "/" || r.URL.Path == "" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>GLPI login</body></html>")
			return
		}
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		jsonError(w, "", 400, "read error")
		return
	}
	ct := r.Header.Get("Content-Type")
	if strings.Contains(ct, "x-compress-br") && !s.BrotliOK {
		// GLPI 10 without the brotli extension: 500 with the request's Content-Type mirrored
		// and an empty body (it logs "RuntimeException: Mode has not been set").
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	body, err := glpi.Decompress(raw, ct, maxBody)
	if err != nil {
		jsonError(w, ct, 400, "JSON not well formed!")
		return
	}
	agentID := r.Header.Get("GLPI-Agent-ID")
	trim := bytes.TrimSpace(body)
	if len(trim) > 0 && trim[0] == '<' {
		s.serveXML(w, ct, agentID, trim)
		return
	}
	if s.XMLMode {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(400)
		io.WriteString(w, "<REPLY><ERROR><![CDATA[XML not well formed!]]></ERROR></REPLY>")
		return
	}
	var msg map[string]any
	if err := json.Unmarshal(trim, &msg); err != nil {
		jsonError(w, ct, 400, "JSON not well formed!")
		return
	}
	action, _ := msg["action"].(string)
	if action == "" {
		action = "inventory"
	}
	switch action {
	case "contact":
		s.Contacts = append(s.Contacts, msg)
		if dev, _ := msg["deviceid"].(string); dev != "" {
			s.AgentIDs[dev] = agentID
		}
		s.contact(w, ct, msg)
	case "inventory":
		if agentID == "" {
			reply(w, ct, 200, map[string]any{"RESPONSE": "SEND"})
			return
		}
		s.inventory(w, ct, trim, msg)
	case "register":
		if !s.RegisterMode {
			jsonError(w, ct, 501, fmt.Sprintf("Query '%s' is not supported.", action))
			return
		}
		s.register(w, ct, agentID, msg)
	case "get_params":
		reply(w, ct, 200, map[string]any{"expiration": "24", "status": "ok"})
	default:
		jsonError(w, ct, 501, fmt.Sprintf("Query '%s' is not supported.", action))
	}
}

// serveXML answers PROLOG (JSON with GLPI-Agent-ID on a GLPI 10 server) and XML inventories.
func (s *Server) serveXML(w http.ResponseWriter, ct, agentID string, body []byte) {
	var req struct {
		Query    string `xml:"QUERY"`
		DeviceID string `xml:"DEVICEID"`
		Content  struct {
			Inner []byte `xml:",innerxml"`
		} `xml:"CONTENT"`
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(400)
		io.WriteString(w, "<REPLY><ERROR><![CDATA[XML not well formed!]]></ERROR></REPLY>")
		return
	}
	switch req.Query {
	case "PROLOG":
		s.Prologs++
		if agentID != "" && !s.XMLMode {
			reply(w, "", 200, map[string]any{"expiration": "24", "status": "ok"})
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, "<?xml version=\"1.0\"?>\n<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>")
	case "INVENTORY":
		if !s.XMLMode {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(400)
			io.WriteString(w, "<REPLY><ERROR><![CDATA[XML inventories are not handled]]></ERROR></REPLY>")
			return
		}
		// A FusionInventory server needs at least the hardware and bios sections.
		for _, need := range []string{"<HARDWARE>", "<BIOS>", "<VERSIONCLIENT>"} {
			if !bytes.Contains(req.Content.Inner, []byte(need)) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(400)
				io.WriteString(w, "<REPLY><ERROR><![CDATA[missing "+need+"]]></ERROR></REPLY>")
				return
			}
		}
		s.Inventories = append(s.Inventories, Inventory{DeviceID: req.DeviceID, Encoding: ct, Raw: body, XML: true})
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, "<?xml version=\"1.0\"?>\n<REPLY></REPLY>")
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(400)
		io.WriteString(w, "<REPLY><ERROR><![CDATA[unknown query]]></ERROR></REPLY>")
	}
}

func (s *Server) contact(w http.ResponseWriter, ct string, msg map[string]any) {
	for _, k := range []string{"deviceid", "name", "version", "installed-tasks"} {
		if _, ok := msg[k]; !ok {
			jsonError(w, ct, 400, "Required property missing: "+k)
			return
		}
	}
	exp := s.ContactExpiration
	if exp == nil {
		exp = "24"
	}
	if s.ContactPending {
		reply(w, ct, 200, map[string]any{"status": "pending", "expiration": "5m"})
		return
	}
	ans := map[string]any{"status": "ok", "expiration": exp,
		"tasks": map[string]any{"inventory": map[string]any{"server": "glpi", "version": "10.0.12"}}}
	served := map[string]bool{"inventory": true}
	if s.Plugin {
		ans["tasks"].(map[string]any)["deploy"] = map[string]any{"version": "1.5.8", "server": "glpiinventory"}
		served["deploy"] = true
	}
	var disabled, msgs []string
	enabled, _ := msg["enabled-tasks"].([]any)
	for _, t := range enabled {
		name, _ := t.(string)
		if !served[name] {
			disabled = append(disabled, name)
			msgs = append(msgs, name+" task not supported")
		}
	}
	if len(disabled) > 0 {
		ans["disabled"] = disabled
		ans["message"] = strings.Join(msgs, ";")
	}
	reply(w, ct, 200, ans)
}

func (s *Server) inventory(w http.ResponseWriter, ct string, raw []byte, msg map[string]any) {
	if s.InventoryDisabled {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "Inventory is disabled")
		return
	}
	if s.Fail5xx > 0 {
		s.Fail5xx--
		jsonError(w, ct, 503, "Service Unavailable")
		return
	}
	if s.Busy > 0 {
		s.Busy--
		exp := s.BusyExpiration
		if exp == nil {
			exp = "30m"
		}
		reply(w, ct, 503, map[string]any{"status": "error", "message": "busy server", "expiration": exp})
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		jsonError(w, ct, 400, "JSON not well formed!")
		return
	}
	for _, sch := range s.schemas {
		if err := sch.Validate(doc); err != nil {
			m := "JSON does not validate. Violations:\n" + err.Error()
			if len(m) > 250 {
				m = m[:250]
			}
			s.Rejected = append(s.Rejected, err.Error())
			jsonError(w, ct, 400, m)
			return
		}
	}
	content, _ := msg["content"].(map[string]any)
	inv := Inventory{Content: content, Raw: raw, Encoding: ct}
	inv.DeviceID, _ = msg["deviceid"].(string)
	inv.Partial, _ = msg["partial"].(bool)
	inv.Tag, _ = msg["tag"].(string)
	s.Inventories = append(s.Inventories, inv)
	reply(w, ct, 200, map[string]any{"expiration": "24", "status": "ok"})
}

// reply writes a JSON answer compressed like the request.
func reply(w http.ResponseWriter, ct string, code int, v any) {
	body, _ := json.Marshal(v)
	base := strings.TrimSpace(strings.Split(ct, ";")[0])
	var buf bytes.Buffer
	switch base {
	case "application/x-compress-zlib":
		zw := zlib.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	case "application/x-compress-gzip":
		gw := gzip.NewWriter(&buf)
		gw.Write(body)
		gw.Close()
		body = buf.Bytes()
	case "application/x-compress-br":
		bw := brotli.NewWriterLevel(&buf, 4)
		bw.Write(body)
		bw.Close()
		body = buf.Bytes()
	default:
		base = "application/json"
	}
	w.Header().Set("Content-Type", base)
	w.WriteHeader(code)
	w.Write(body)
}

func jsonError(w http.ResponseWriter, ct string, code int, msg string) {
	reply(w, ct, code, map[string]any{"status": "error", "message": msg, "expiration": 24})
}

// Received returns a copy of the accepted inventories.
func (s *Server) Received() []Inventory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Inventory(nil), s.Inventories...)
}

// Set changes switches under the lock.
func (s *Server) Set(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// Get reads under the lock.
func (s *Server) Get(f func(s *Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// File is a deploy file the fake serves as gzip parts.
type File struct {
	Name       string
	Data       []byte
	Parts      int // how many parts (≥ 1)
	Uncompress bool
}

// AddJob registers a job for every agent; actions and checks are given as the plugin sends
// them. It returns the file keys (sha512 of each file).
func (s *Server) AddJob(uuid string, checks []map[string]any, actions []map[string]any, files ...File) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []any
	var out []string
	for _, f := range files {
		sum := sha512.Sum512(f.Data)
		key := hex.EncodeToString(sum[:])
		n := max(f.Parts, 1)
		var ids []string
		chunk := (len(f.Data) + n - 1) / n
		for i := 0; i < n; i++ {
			lo, hi := min(i*chunk, len(f.Data)), min((i+1)*chunk, len(f.Data))
			// The plugin gzip-appends 1 MiB reads to a part: parts are multi-member streams.
			var buf bytes.Buffer
			mid := lo + (hi-lo)/2
			for _, piece := range [][]byte{f.Data[lo:mid], f.Data[mid:hi]} {
				gw := gzip.NewWriter(&buf)
				gw.Write(piece)
				gw.Close()
			}
			ps := sha512.Sum512(buf.Bytes())
			id := hex.EncodeToString(ps[:])
			s.parts[id] = buf.Bytes()
			ids = append(ids, id)
		}
		unc := 0
		if f.Uncompress {
			unc = 1
		}
		s.files[key] = map[string]any{"name": f.Name, "p2p": 0, "p2p-retention-duration": 0, "uncompress": unc,
			"mirrors":    s.mirrors(),
			"multiparts": ids}
		keys = append(keys, key)
		out = append(out, key)
	}
	if checks == nil {
		checks = []map[string]any{}
	}
	job := map[string]any{"uuid": uuid, "checks": checks, "associatedFiles": keys, "actions": actions, "userinteractions": []any{}}
	s.jobs["*"] = append(s.jobs["*"], job)
	return out
}

func (s *Server) mirrors() []string {
	m := []string{s.URL + "/plugins/glpiinventory/b/deploy/?action=getFilePart&file="}
	if s.DeadMirrorFirst {
		m = append([]string{s.URL + "/dead-mirror/?file="}, m...)
	}
	return m
}

// PartIDs lists the part ids of a file key.
func (s *Server) PartIDs(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := s.files[key].(map[string]any)
	ids, _ := f["multiparts"].([]string)
	return ids
}

// JobStatuses returns the setStatus calls for a job uuid.
func (s *Server) JobStatuses(uuid string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, q := range s.Statuses {
		if q.Get("uuid") == uuid {
			out = append(out, q)
		}
	}
	return out
}

// JobState says how the plugin sees a job: "ok" (finished OK: msg exactly "job successfully
// completed" or "job skipped" with status ≠ ko), "ko", or "running".
func (s *Server) JobState(uuid string) string {
	state := "running"
	for _, q := range s.JobStatuses(uuid) {
		if q.Get("part") != "job" {
			continue
		}
		if q.Get("status") == "ko" {
			state = "ko"
		} else if m := q.Get("msg"); m == "job successfully completed" || m == "job skipped" {
			state = "ok"
		}
	}
	return state
}

func (s *Server) servePlugin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch q.Get("action") {
	case "getConfig":
		w.Header().Set("Content-Type", "text/html") // the plugin mislabels its JSON
		dev := q.Get("machineid")
		if _, known := s.AgentIDs[dev]; !known {
			w.WriteHeader(400)
			return
		}
		sched := []any{}
		if len(s.pending()) > 0 {
			sched = append(sched, map[string]any{"task": "Deploy", "remote": s.URL + "/plugins/glpiinventory/b/deploy/"})
		}
		json.NewEncoder(w).Encode(map[string]any{"configValidityPeriod": 600, "schedule": sched})
	case "getJobs":
		w.Header().Set("Content-Type", "text/html")
		p := s.pending()
		if len(p) == 0 {
			io.WriteString(w, "{}")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"jobs": p, "associatedFiles": s.files})
	case "getFilePart":
		f := q.Get("file")
		parts := strings.Split(strings.Trim(f, "/"), "/")
		id := parts[len(parts)-1]
		if len(parts) != 3 || parts[0] != id[:1] || parts[1] != id[:min(2, len(id))] {
			w.WriteHeader(403)
			return
		}
		data, ok := s.parts[id]
		if !ok {
			w.WriteHeader(404)
			return
		}
		if id == s.CorruptPart {
			data = append([]byte("corrupt"), data...)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	case "setStatus":
		s.Statuses = append(s.Statuses, q)
		if q.Get("part") == "job" && (q.Get("status") == "ko" || q.Get("msg") == "job successfully completed" || q.Get("msg") == "job skipped") {
			s.done[q.Get("uuid")] = true
		}
		io.WriteString(w, "{}")
	default:
		w.WriteHeader(400)
	}
}

// pending lists the jobs without a final status (re-served until then, as the plugin does).
func (s *Server) pending() []any {
	var out []any
	for _, j := range s.jobs["*"] {
		if !s.done[j.(map[string]any)["uuid"].(string)] {
			out = append(out, j)
		}
	}
	return out
}

// random8 is the server secret source (fixed in tests to reproduce the note's vector).
func random8() [8]byte {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return b
}

var errNoToken = errors.New("no token configured")
