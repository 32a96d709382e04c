// Package rdfmfake is an in-process RDFM server for tests: signed device auth with real RSA
// verification and admin acceptance, HS256 device tokens with a short lifetime, the update
// check and package serving (with a corrupt-bytes mode), and the management WebSocket with its
// real close codes (actions, shell attach, file download).
package rdfmfake

import (
	"bufio"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Server is the fake.
type Server struct {
	*httptest.Server
	// TokenLifetime is the "expires" of issued tokens.
	TokenLifetime time.Duration
	// Now is the server clock.
	Now func() time.Time
	// HoldUploads, when set, keeps every part upload waiting until it is closed (tests of
	// concurrent downloads).
	HoldUploads chan struct{}

	secret []byte
	mu     sync.Mutex
	// accepted keys are (MAC, PEM) pairs.
	accepted map[[2]string]bool
	pending  map[[2]string]bool
	metadata map[string]map[string]any
	pkg      *Package
	corrupt  bool
	Log      []string // "METHOD path status" of every request
	Checks   []map[string]any

	recv   chan Message
	shells map[string]chan *websocket.Conn
	// uploads: upload id → part index → bytes; fsUpload: fs request id → upload id.
	uploads  map[string]map[int][]byte
	fsUpload map[string]string
	// attachMACs: the {mac} of every shell attach URL, in order.
	attachMACs []string
	queued     [][2]string // execution id, action id
	cur        *wsConn
	conns      int
	// socketsDown: management socket handshakes fail (SocketsDown).
	socketsDown atomic.Bool
}

// Package is the update offered to every device whose version differs from Version.
type Package struct {
	ID      int
	Data    []byte
	Version string // offered while the device reports another version
}

// New starts the fake.
func New() *Server {
	s := &Server{
		TokenLifetime: 300 * time.Second, Now: time.Now, secret: []byte("fake-rdfm-jwt-secret"),
		accepted: map[[2]string]bool{}, pending: map[[2]string]bool{}, metadata: map[string]map[string]any{},
		recv: make(chan Message, 256), shells: map[string]chan *websocket.Conn{},
		uploads: map[string]map[int][]byte{}, fsUpload: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/device", s.auth)
	mux.HandleFunc("POST /api/v1/update/check", s.check)
	mux.HandleFunc("GET /local_storage/pkg", s.serve)
	mux.HandleFunc("GET /api/v1/devices/ws", s.ws)
	mux.HandleFunc("GET /api/v1/devices/{mac}/shell/attach/{uuid}", s.attach)
	mux.HandleFunc("PUT /upload/{up}/{i}", s.upload)
	s.Server = httptest.NewServer(s.logged(mux))
	return s
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(c int) { r.code = c; r.ResponseWriter.WriteHeader(c) }

// Hijack lets the WebSocket upgrade through the logging wrapper.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.code = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, code: 200}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.Log = append(s.Log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.code))
		s.mu.Unlock()
	})
}

func jsonErr(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// Pending lists the (MAC, PEM) registrations awaiting acceptance.
func (s *Server) Pending() [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][2]string
	for k := range s.pending {
		out = append(out, k)
	}
	return out
}

// Accept approves the pending registration of mac; false when there is none.
func (s *Server) Accept(mac string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.pending {
		if k[0] == mac {
			s.accepted[k] = true
			delete(s.pending, k)
			return true
		}
	}
	return false
}

// SetPackage offers p; corrupt serves altered bytes under the genuine hash.
func (s *Server) SetPackage(p *Package, corrupt bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkg, s.corrupt = p, corrupt
}

// LogLines is a copy of Log, safe while the device is still talking to the server.
func (s *Server) LogLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.Log...)
}

// Metadata is what the server stores for the device: the metadata of its last auth, with the
// version of a later update_version applied (a copy).
func (s *Server) Metadata(mac string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.metadata[mac])
}

func validMetadata(m map[string]any) error {
	for _, k := range []string{"rdfm.software.version", "rdfm.hardware.devtype", "rdfm.hardware.macaddr"} {
		if _, ok := m[k].(string); !ok {
			return fmt.Errorf("'%s' is a required string property", k)
		}
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
		case []any:
			for _, e := range v {
				if _, ok := e.(string); !ok {
					return fmt.Errorf("%s: list items must be strings", k)
				}
			}
		default:
			return fmt.Errorf("%s: value must be a string or a list of strings", k)
		}
	}
	return nil
}

func (s *Server) auth(w http.ResponseWriter, r *http.Request) {
	if !isJSON(r) {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		io.WriteString(w, "<html>415 Unsupported Media Type</html>")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	sigB64 := r.Header.Get("X-RDFM-Device-Signature")
	if sigB64 == "" {
		jsonErr(w, 400, "request is missing device signature header (X-RDFM-Device-Signature)")
		return
	}
	var req struct {
		Metadata  map[string]any `json:"metadata"`
		PublicKey string         `json:"public_key"`
		Timestamp *int64         `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Metadata == nil || req.Timestamp == nil {
		jsonErr(w, 400, "schema validation failed: {body}")
		return
	}
	pub, err := parsePublic(req.PublicKey)
	sig, err2 := base64.StdEncoding.DecodeString(sigB64)
	h := sha256.Sum256(body)
	if err != nil || err2 != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
		jsonErr(w, 400, "signature verification failed")
		return
	}
	if err := validMetadata(req.Metadata); err != nil {
		jsonErr(w, 400, "schema validation failed: {"+err.Error()+"}")
		return
	}
	mac := req.Metadata["rdfm.hardware.macaddr"].(string)
	id := [2]string{mac, req.PublicKey}
	s.mu.Lock()
	ok := s.accepted[id]
	if !ok {
		s.pending[id] = true
	} else {
		s.metadata[mac] = req.Metadata
	}
	now := s.Now()
	s.mu.Unlock()
	if !ok {
		jsonErr(w, 401, "device unauthorized")
		return
	}
	exp := int64(s.TokenLifetime / time.Second)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"expires": exp, "token": s.sign(mac, now.Unix(), exp)})
}

func parsePublic(p string) (*rsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(p))
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("no PUBLIC KEY block")
	}
	if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("not RSA")
	}
	return x509.ParsePKCS1PublicKey(b.Bytes)
}

var b64 = base64.RawURLEncoding

func (s *Server) sign(mac string, created, expires int64) string {
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	pl, _ := json.Marshal(map[string]any{"device_id": mac, "created_at": created, "expires": expires})
	msg := head + "." + b64.EncodeToString(pl)
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(m.Sum(nil))
}

// verifyToken applies the header rules of the real server; it writes the error itself.
func (s *Server) verifyToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		jsonErr(w, 401, "no Authorization header was provided")
		return "", false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		jsonErr(w, 401, "invalid authorization - expected authorization type Bearer")
		return "", false
	}
	tok, ok := strings.CutPrefix(rest, "token=")
	if !ok {
		w.WriteHeader(500) // the real server's bug with the RFC 6750 form
		io.WriteString(w, "<html>500 Internal Server Error</html>")
		return "", false
	}
	tok = strings.Trim(tok, `"`)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		jsonErr(w, 401, "invalid token was provided")
		return "", false
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	var pl struct {
		DeviceID  string `json:"device_id"`
		CreatedAt int64  `json:"created_at"`
		Expires   int64  `json:"expires"`
	}
	raw, err2 := b64.DecodeString(parts[1])
	if err != nil || err2 != nil || !hmac.Equal(sig, m.Sum(nil)) || json.Unmarshal(raw, &pl) != nil ||
		s.Now().Unix() >= pl.CreatedAt+pl.Expires {
		jsonErr(w, 401, "invalid token was provided")
		return "", false
	}
	return pl.DeviceID, true
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.verifyToken(w, r); !ok {
		return
	}
	if !isJSON(r) {
		jsonErr(w, 500, "update check failed")
		return
	}
	var m map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
		jsonErr(w, 400, "schema validation failed: body")
		return
	}
	if err := validMetadata(m); err != nil {
		jsonErr(w, 400, "schema validation failed: "+err.Error())
		return
	}
	s.mu.Lock()
	s.Checks = append(s.Checks, m)
	_, known := s.metadata[m["rdfm.hardware.macaddr"].(string)]
	p := s.pkg
	s.mu.Unlock()
	if !known {
		jsonErr(w, 500, "provided MAC address does not match any device")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if p == nil || m["rdfm.software.version"] == p.Version {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sum := sha256.Sum256(p.Data)
	json.NewEncoder(w).Encode(map[string]any{
		"id": p.ID, "created": s.Now().UTC().Format(http.TimeFormat), "sha256": hex.EncodeToString(sum[:]),
		"uri": s.URL + "/local_storage/pkg",
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "package URIs must not carry the device token", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	p, corrupt := s.pkg, s.corrupt
	s.mu.Unlock()
	if p == nil {
		http.NotFound(w, r)
		return
	}
	data := p.Data
	if corrupt {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	http.ServeContent(w, r, "pkg", time.Time{}, strings.NewReader(string(data)))
}
