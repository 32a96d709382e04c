package jumpcloud

// Fuzz tests for what the adapter reads from JumpCloud (the system record, group and
// association lists, error answers) and from the JumpCloud agent's files (jcagent.conf, the
// private key): any content must end in a result or a clear error, never a panic or a hang.
// The seeds are shaped like the real files and answers, so `go test` runs them as cases.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

const fuzzSysID = "0123456789abcdef01234567"

// fuzzKey is small (signing is in every iteration) but of a size Go still accepts.
var fuzzKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

func pemKey(tb testing.TB, pkcs8 bool) []byte {
	tb.Helper()
	if !pkcs8 {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(fuzzKey())})
	}
	der, err := x509.MarshalPKCS8PrivateKey(fuzzKey())
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// FuzzParseKey covers the private key file: a key that parses must also sign.
func FuzzParseKey(f *testing.F) {
	f.Add(pemKey(f, false))
	f.Add(pemKey(f, true))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+5Yfn1LQ8Y0p2Q0Lz0X9P1kM5l3m3YbL1k1vE1bK1v\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("not a key"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		k, err := ParseKey(raw, "client.key")
		if err != nil {
			if k != nil || !strings.Contains(err.Error(), "client.key") {
				t.Fatalf("error %q does not name the key file", err)
			}
			return
		}
		req, _ := http.NewRequest(http.MethodGet, "https://console.jumpcloud.com/api/systems/"+fuzzSysID, nil)
		if err := Sign(req, fuzzSysID, k, time.Now()); err != nil {
			return // a key that parses yet cannot sign is refused with an error: fine
		}
		checkSignature(t, req, &k.PublicKey)
	})
}

var sigRE = regexp.MustCompile(`signature="([^"]+)"`)

func checkSignature(t *testing.T, req *http.Request, pub *rsa.PublicKey) {
	t.Helper()
	m := sigRE.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("no signature in %q", req.Header.Get("Authorization"))
	}
	sig, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(SigningString(req.Method, req.URL.RequestURI(), req.Header.Get("Date"))))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify with the key's public half: %v", err)
	}
}

// FuzzLoadIdentity covers jcagent.conf and the key file it names, read as the adapter does.
func FuzzLoadIdentity(f *testing.F) {
	good := pemKey(f, false)
	for _, c := range []string{
		`{"systemKey":"0123456789abcdef01234567","agentServerHost":"agent.jumpcloud.com","clientKey":"","unknown":{"a":1}}`,
		`{"systemKey":"0123456789abcdef01234567","agentServerHost":"agent.eu.jumpcloud.com"}`,
		`{"agentServerHost":"agent.jumpcloud.com"}`,
		`{"systemKey":"../../api/systemusers"}`,
		`{"systemKey":"0123456789ABCDEF01234567"}`,
		`{"systemKey":5}`,
		`systemKey=x`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(c), good)
	}
	f.Add([]byte(`{"systemKey":"0123456789abcdef01234567"}`), []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	dir := f.TempDir()
	p := Paths{Conf: filepath.Join(dir, "jcagent.conf"), Key: filepath.Join(dir, "client.key"), Log: "/var/log/jcagent.log"}
	f.Fuzz(func(t *testing.T, conf, key []byte) {
		if err := os.WriteFile(p.Conf, conf, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.Key, key, 0o600); err != nil {
			t.Fatal(err)
		}
		// The key path is given: the fuzzer must not make the test read arbitrary files.
		id, err := LoadIdentity(p, "", p.Key)
		if err != nil {
			if id != nil || errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q does not name the file at fault (identity %v)", err, id)
			}
			return
		}
		if !objectID.Get().MatchString(id.SystemKey) || id.Key == nil {
			t.Fatalf("accepted identity %q with key %v", id.SystemKey, id.Key != nil)
		}
		RegionURL(id.Host)
	})
}

// jcAnswers is what the fake System Context API answers; every GET of a list gets list.
type jcAnswers struct {
	mu     sync.Mutex
	status int
	date   string
	record []byte
	list   []byte
	writes int // status of PUT and POST
}

func (s *jcAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.date != "" {
		w.Header()["Date"] = []string{s.date}
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/systems/"+fuzzSysID:
		w.WriteHeader(s.status)
		w.Write(s.record)
	case r.Method == http.MethodGet:
		w.WriteHeader(s.status)
		w.Write(s.list)
	default:
		w.WriteHeader(s.writes)
		if s.writes != http.StatusNoContent {
			w.Write(s.list)
		}
	}
}

var recordSeeds = []string{
	`{"_id":"0123456789abcdef01234567","id":"0123456789abcdef01234567","displayName":"pc1","description":"","hostname":"pc1","attributes":[{"name":"admu","value":"InProgress"},{"name":"omniagentModel","value":"Dell Inc. Latitude 7440"}],"tags":["lab"]}`,
	`{"_id":"0123456789abcdef01234567","attributes":null,"tags":null}`,
	`{"attributes":[{"name":5}],"tags":"x"}`,
	`{"message":"Unauthorized"}`,
	`<html>502 Bad Gateway</html>`,
	``,
}

var listSeeds = []string{
	`[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","type":"system_group","paths":[[{"to":{"type":"system_group"}}]]}]`,
	`[{"attributes":{"sudo":{"enabled":true,"withoutPassword":false}},"to":{"id":"111111111111111111111111","type":"user"}}]`,
	`[{"id":"111111111111111111111111","type":"user","compiledAttributes":{"sudo":{"enabled":true,"withoutPassword":true}},"paths":[[{"to":{"type":"user_group"}},{"to":{"type":"user"}}]]}]`,
	`[]`, `{}`, `null`, `[null,1]`,
}

// fuzzAdapter builds a real adapter against url with groups, users, tags and templates set, so
// that a cycle reads and writes every kind of answer.
func fuzzAdapter(tb testing.TB, url string) *Adapter {
	tb.Helper()
	dir := protocoltest.FuzzDir(tb)
	p := Paths{Conf: filepath.Join(dir, "jcagent.conf"), Key: filepath.Join(dir, "client.key"), Log: filepath.Join(dir, "jcagent.log")}
	if err := os.WriteFile(p.Conf, []byte(`{"systemKey":"`+fuzzSysID+`","agentServerHost":"agent.jumpcloud.com"}`), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p.Key, pemKey(tb, false), 0o600); err != nil {
		tb.Fatal(err)
	}
	opts := NewOptions()
	opts.SystemGroups = []string{"aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"}
	opts.Users = []User{{ID: "111111111111111111111111", Sudo: true}, {ID: "222222222222222222222222"}}
	opts.Tags = []string{"lab", "omniagent"}
	opts.DisplayName = "{{.Hostname}}"
	opts.Description = "summary"
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		tb.Fatal(err)
	}
	inv := inventory.Inventory{
		System: inventory.System{Manufacturer: "Dell Inc.", Model: "Latitude 7440", Serial: "PF2ABCDE", Hostname: "pc1"},
		OS:     inventory.OS{Name: "Ubuntu", Version: "24.04"},
		Memory: inventory.Memory{TotalBytes: 16 << 30},
	}
	a, err := New(protocols.Deps{
		Server:    config.Server{Name: "jc-fuzz", Protocol: Name, URL: url, Options: opts},
		Logger:    slog.New(slog.DiscardHandler),
		Identity:  identity.Identity{Hostname: "pc1", AgentVersion: "1.0.0"},
		Inventory: fixedInv{&inv},
		State:     st.Server("jc-fuzz"),
		HTTP:      func(bool) (*http.Client, error) { return &http.Client{Timeout: 5 * time.Second}, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	a.SetPaths(p)
	return a
}

type fixedInv struct{ inv *inventory.Inventory }

func (f fixedInv) Inventory(context.Context) (*inventory.Inventory, error) {
	c := *f.inv
	return &c, nil
}

// FuzzCycleAnswers runs whole cycles against a server answering fuzzed record and list bodies,
// status codes and Date headers (the 401 explanation reads the clock skew from it).
func FuzzCycleAnswers(f *testing.F) {
	for i, r := range recordSeeds {
		f.Add(uint16(200), "", []byte(r), []byte(listSeeds[i%len(listSeeds)]), uint16(204))
	}
	for _, l := range listSeeds {
		f.Add(uint16(200), "", []byte(recordSeeds[0]), []byte(l), uint16(200))
	}
	f.Add(uint16(401), "Thu, 05 Nov 2026 03:04:05 GMT", []byte(`{"message":"Unauthorized"}`), []byte(`[]`), uint16(204))
	f.Add(uint16(401), "yesterday", []byte(``), []byte(`[]`), uint16(204))
	f.Add(uint16(200), "", []byte(recordSeeds[0]), []byte(`[]`), uint16(403))
	f.Add(uint16(500), "", []byte(strings.Repeat("é", 200)), []byte(`[]`), uint16(500))
	srv := &jcAnswers{}
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	a := fuzzAdapter(f, ts.URL)
	f.Fuzz(func(t *testing.T, status uint16, date string, record, list []byte, writes uint16) {
		srv.mu.Lock()
		srv.status, srv.date, srv.record, srv.list = 200+int(status%400), strings.Map(headerSafe, date), record, list
		srv.writes = 200 + int(writes%400)
		for _, c := range []*int{&srv.status, &srv.writes} {
			if *c == http.StatusNotModified { // a status that carries no body
				*c = http.StatusNoContent
			}
		}
		srv.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := a.Cycle(ctx)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "jumpcloud") && !strings.Contains(msg, "jumpcloud: ") || !utf8.ValidString(msg) {
				t.Fatalf("error %q does not say it comes from jumpcloud, or is not UTF-8", msg)
			}
			return
		}
		if res.Details["system_key"] != fuzzSysID {
			t.Fatalf("cycle result without the system key: %+v", res)
		}
	})
}

// FuzzErrorAnswer covers the error answers of one request: StatusError and the 401 causes.
func FuzzErrorAnswer(f *testing.F) {
	f.Add(uint16(401), "Thu, 05 Nov 2026 03:04:05 GMT", []byte(`{"message":"Unauthorized"}`))
	f.Add(uint16(401), "Mon, 02 Jan 2006 15:04:05 GMT", []byte(``))
	f.Add(uint16(403), "", []byte(`{"message":"Forbidden: system context cannot access this resource"}`))
	f.Add(uint16(404), "", []byte(`{"message":"Not Found"}`))
	f.Add(uint16(429), "", []byte(strings.Repeat("ü", 200)))
	f.Add(uint16(500), "", []byte("\xff\xfe\xfd"))
	f.Add(uint16(502), "", []byte("a"+strings.Repeat("ü", 200))) // the 256-byte cut falls inside a rune
	srv := &jcAnswers{}
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	now := time.Date(2026, 11, 5, 3, 4, 5, 0, time.UTC)
	c := &client{http: ts.Client(), base: ts.URL, id: &Identity{SystemKey: fuzzSysID, Key: fuzzKey()}, now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, status uint16, date string, body []byte) {
		srv.mu.Lock()
		srv.status, srv.date, srv.record = 200+int(status%400), strings.Map(headerSafe, date), body
		if srv.status == http.StatusNoContent || srv.status == http.StatusNotModified {
			srv.record = nil
		}
		srv.mu.Unlock()
		var rec system
		err := c.do(context.Background(), http.MethodGet, "/api/systems/"+fuzzSysID, nil, nil, &rec)
		if err == nil {
			if srv.status > 299 {
				t.Fatalf("HTTP %d accepted", srv.status)
			}
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "jumpcloud: ") || !utf8.ValidString(msg) {
			t.Fatalf("error %q does not start with jumpcloud: or is not UTF-8", msg)
		}
		var se *StatusError
		if errors.As(err, &se) && len(se.Body) > 256+len("…") {
			t.Fatalf("error body kept as %d bytes", len(se.Body))
		}
		var ae *AuthError
		if errors.As(err, &ae) && len(ae.Causes) == 0 {
			t.Fatal("401 explained without a cause")
		}
	})
}

func headerSafe(r rune) rune {
	if r < 0x20 || r >= 0x7f {
		return -1
	}
	return r
}

// FuzzStateFile covers this server's own state file (hand-edited, from an older agent, or
// damaged), read at the start of a cycle that the server refuses with a 401.
func FuzzStateFile(f *testing.F) {
	for _, s := range []string{
		`{"system_key":"` + fuzzSysID + `","added_groups":["aaaaaaaaaaaaaaaaaaaaaaaa"],"added_users":["111111111111111111111111"],"summary_hash":"0011223344556677","inventory_changed":"2026-11-05T03:04:05Z","last_put":"2026-11-05T03:04:05Z","unauthorized":2}`,
		`{"system_key":"` + fuzzSysID + `","unauthorized":-1}`,
		`{"system_key":"` + fuzzSysID + `","unauthorized":9223372036854775807}`,
		`{"system_key":"76543210fedcba9876543210","deleted_key":"` + fuzzSysID + `","deleted_at":"2026-11-05T03:04:05Z"}`,
		`{"added_groups":[1,2]}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	srv := &jcAnswers{status: http.StatusUnauthorized, date: "", record: []byte(`{"message":"Unauthorized"}`), list: []byte(`[]`), writes: http.StatusNoContent}
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	a := fuzzAdapter(f, ts.URL)
	path := a.deps.State.Path()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := []byte(`{"schema":1,"saved":"2026-11-05T03:04:05Z","data":` + string(data) + `}`)
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := a.Cycle(context.Background())
		if err == nil {
			if res.Details["deleted"] == "" {
				t.Fatalf("a cycle answered 401 succeeded: %+v", res)
			}
			return
		}
		var ae *AuthError
		if errors.As(err, &ae) && (res.Next <= 0 || res.Next > 6*time.Hour) {
			t.Fatalf("after a 401 the next try is in %v, want a backoff of up to 6h", res.Next)
		}
	})
}

// A key path naming a device or a huge file ends in an error instead of reading on.
func TestLoadIdentityRefusesHugeFiles(t *testing.T) {
	dir := t.TempDir()
	p := Paths{Conf: filepath.Join(dir, "jcagent.conf"), Key: filepath.Join(dir, "client.key"), Log: "/var/log/jcagent.log"}
	if err := os.WriteFile(p.Conf, []byte(`{"systemKey":"`+fuzzSysID+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := append(pemKey(t, false), make([]byte, maxFileSize)...)
	if err := os.WriteFile(p.Key, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(p, "", ""); err == nil || !strings.Contains(err.Error(), "larger than") || !strings.Contains(err.Error(), p.Key) {
		t.Fatalf("huge key file: %v", err)
	}
	if err := os.WriteFile(p.Conf, append([]byte(`{"systemKey":"`+fuzzSysID+`"}`), make([]byte, maxFileSize)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(p, "", ""); err == nil || !strings.Contains(err.Error(), "larger than") || !strings.Contains(err.Error(), p.Conf) {
		t.Fatalf("huge jcagent.conf: %v", err)
	}
}
