package oco

// Fuzz tests for everything the adapter reads from an OCO server (and its own state file): a
// hostile or broken server must get a clear error back, never a panic or a hang. The seeds are
// answers shaped like the real server's, so `go test` runs them as regular cases.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

const fuzzServerKey = "server-key-for-fuzzing"

// Real-looking answers: hello with keys and jobs, update, job state, PHP's [] for empty params.
var answerSeeds = []string{
	`{"id":1,"error":null,"result":{"success":true,"params":{"server-key":"` + fuzzServerKey + `","agent-key":"issued-agent-key","update":1,"software-jobs":[{"id":"12","container-id":"3","package-id":"5","download":true,"procedure":"sh install.sh","sequence-mode":1,"restart":"10","shutdown":null,"exit":null}],"logins-since":"2026-01-02 03:04:05","events":[{"log":"journalctl","query":"ssh","since":"2026-01-01 00:00:00"}],"update-passwords":[]},"timestamp":1795340000.1234}}`,
	`{"id":1,"error":null,"result":{"success":true,"params":[],"timestamp":"1795340001.5"}}`,
	`{"id":1,"error":null,"result":{"success":true,"params":{"job-succeeded":"1","server-key":"` + fuzzServerKey + `"},"timestamp":1795340002}}`,
	`{"id":1,"error":null,"result":{"success":true,"params":{"server-key":"` + fuzzServerKey + `","software-jobs":{"3":{"id":2,"procedure":"x","exit":0}}}}}`,
	`{"id":1,"error":"Invalid method","result":null}`,
	`{"id":1,"result":{"params":{"server-key":1e400}}}`,
	`{"id":1,"result":{"params":"[]","timestamp":"NaN"}}`,
	`{"id":1,"result":{"params":{},"timestamp":"Inf"}}`,
	`<html>500 Internal Server Error</html>`,
	``,
}

// fuzzAdapter builds a real adapter over a state folder in dir, with a recording power action.
func fuzzAdapter(tb testing.TB, dir, url string) *Adapter {
	tb.Helper()
	opts := NewOptions()
	opts.RegistrationKey = "reg-key"
	opts.AllowPlainHTTP = true // httptest speaks plain HTTP; TLS is not what is fuzzed
	srv := config.Server{Name: "oco-fuzz", Protocol: Name, URL: url, Options: opts}
	st, err := state.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	h := st.Server(srv.Name)
	spool, err := h.SpoolDir()
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	runner := jobs.New(jobs.Options{Server: srv.Name, SpoolDir: spool, Logger: log, Power: noPower{}, Timeout: time.Minute, MaxOutput: 1 << 20, MaxDownload: 1 << 20})
	a, err := New(protocols.Deps{
		Server:    srv,
		Logger:    log,
		Identity:  identity.Identity{Hostname: "pc1", MachineUID: "4c4c4544-0042-3510-8052-b4c04f4b4e31"},
		Inventory: noInventory{},
		Jobs:      runner,
		State:     h,
		HTTP:      func(bool) (*http.Client, error) { return &http.Client{Timeout: 5 * time.Second}, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.load(); err != nil {
		tb.Fatal(err)
	}
	a.st.APIURL = url
	return a
}

type noPower struct{}

func (noPower) Do(context.Context, jobs.PowerRequest) error { return nil }

type noInventory struct{}

func (noInventory) Inventory(context.Context) (*inventory.Inventory, error) {
	return nil, errors.New("no inventory in fuzz tests")
}

// FuzzLooseValues covers the readers of PHP's loose typing and of result.params.
func FuzzLooseValues(f *testing.F) {
	for _, s := range []string{`1`, `"1"`, `" 42 "`, `true`, `false`, `null`, ``, `1.5`, `"1795340000.1234"`, `1e400`, `-1e300`, `9223372036854775807`, `9.3e18`, `"NaN"`, `"+Inf"`, `"2026-01-02 03:04:05"`, `[]`, `{}`, `{"a":1}`, `"\u0000"`, `[1,2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := json.RawMessage(raw)
		null := rawIsNull(r)
		if n, ok := looseInt(r); ok {
			if null {
				t.Fatalf("looseInt(%q) read null as %d", raw, n)
			}
			var x float64
			if json.Unmarshal(raw, &x) == nil && math.Abs(float64(n)-x) > math.Abs(x)*1e-9+1 {
				t.Fatalf("looseInt(%q) = %d, far from the JSON number %v", raw, n, x)
			}
		}
		if v, ok := looseFloat(r); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("looseFloat(%q) accepted %v: a timestamp must be a finite number", raw, v)
		}
		if s, ok := looseString(r); ok && null {
			t.Fatalf("looseString(%q) read null as %q", raw, s)
		}
		looseBool(r)
		if m, err := paramsMap(r); (m == nil) == (err == nil) {
			t.Fatalf("paramsMap(%q) = %v, %v: want exactly one of a map or an error", raw, m, err)
		}
		parseServerTime(r)
	})
}

// FuzzParseJobs covers software-jobs, an array or (sparse PHP keys) an object of job entries.
func FuzzParseJobs(f *testing.F) {
	for _, s := range []string{
		`[{"id":"12","container-id":"3","package-id":"5","download":true,"procedure":"sh install.sh","sequence-mode":1,"restart":"10","shutdown":null,"exit":null}]`,
		`{"3":{"id":"2","container-id":"1","package-id":"5","download":"1","procedure":"sh x","sequence-mode":"1","restart":"10","shutdown":null,"exit":-1},"7":{"id":"dynamic-7","container-id":"deployment_rule::1","package-id":2,"download":false,"procedure":"","sequence-mode":0,"restart":null,"shutdown":null,"exit":0}}`,
		`[{"id":1,"restart":1e300},{"id":2,"shutdown":"9223372036854775807"},"junk",null,[]]`,
		`{"a":1,"b":}`, `[]`, `null`, `"x"`, `{`, `[`, `7`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		list, err := parseJobs(json.RawMessage(raw))
		if err != nil {
			if list != nil || !strings.Contains(err.Error(), "software-jobs") {
				t.Fatalf("parseJobs error %q (with %d jobs) does not name software-jobs", err, len(list))
			}
			return
		}
		for _, j := range list {
			if len(j.ID) > 0 && !json.Valid(j.ID) {
				t.Fatalf("job id %q is not JSON: it is sent back to the server verbatim", j.ID)
			}
			for name, v := range map[string]*int64{"restart": j.Restart, "shutdown": j.Shutdown, "exit": j.Exit} {
				if v != nil {
					if d, err := postActionDelay(*v); err == nil && (d < 0 || d > maxPostActionDelay) {
						t.Fatalf("%s delay %d minutes gave %v", name, *v, d)
					}
				}
			}
		}
	})
}

// FuzzVerify covers the checks of a 200 answer: JSON, error member, params, server key pin,
// x-oco-server-signature and result.timestamp, in every protocol mode.
func FuzzVerify(f *testing.F) {
	for i, s := range answerSeeds {
		f.Add([]byte(s), uint8(i%4), i%2 == 0, uint8(i%3))
	}
	a := fuzzAdapter(f, protocoltest.FuzzDir(f), "https://oco.invalid/api-agent.php")
	f.Fuzz(func(t *testing.T, body []byte, sigMode uint8, pinned bool, mode uint8) {
		a.opts.OCOProtocol = []string{ModeHMAC, ModeLegacy, ModeAuto}[mode%3]
		a.st = persisted{APIURL: a.st.APIURL, LastServerTS: 1795340000}
		if pinned {
			a.st.ServerKey = fuzzServerKey
		}
		resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
		switch sigMode % 4 {
		case 1: // signed with the key the agent will check against
			key := a.st.ServerKey
			if key == "" {
				var ans answer
				if json.Unmarshal(body, &ans) == nil {
					if p, err := paramsMap(ans.Result.Params); err == nil {
						key, _ = looseString(p["server-key"])
					}
				}
			}
			resp.Header.Set(HeaderServerSignature, Sign(key, body))
		case 2:
			resp.Header.Set(HeaderServerSignature, "not hex")
		case 3:
			resp.Header.Set(HeaderServerSignature, Sign("another key", body))
		}
		params, err := a.verify(MethodHello, resp, body)
		if err != nil {
			if params != nil || !strings.Contains(err.Error(), MethodHello) {
				t.Fatalf("error %q does not name the method (params %v)", err, params)
			}
			return
		}
		if params == nil {
			t.Fatal("verify accepted an answer without returning params")
		}
		if pinned && a.st.ServerKey != fuzzServerKey {
			t.Fatalf("the pinned server key was replaced by %q", a.st.ServerKey)
		}
		if ts := a.st.LastServerTS; math.IsNaN(ts) || math.IsInf(ts, 0) {
			t.Fatalf("accepted server timestamp %v", ts)
		}
		if a.mode() != ModeLegacy && !VerifySignature(a.st.ServerKey, body, resp.Header.Get(HeaderServerSignature)) {
			t.Fatal("an answer was accepted whose signature does not match the server key")
		}
	})
}

// FuzzServerAnswer sends a JSON-RPC call to a server answering fuzzed status, headers and body:
// the path of hello, update and job state reports, through HTTP and the refusal messages.
func FuzzServerAnswer(f *testing.F) {
	for i, s := range answerSeeds {
		f.Add(uint16(200), []byte(s), i%2 == 0, "application/json")
	}
	for _, s := range []string{"Signature header missing", "Invalid agent signature", "Agent timestamp too old", "Job 12 not found", strings.Repeat("é", 400), "\xff\xfe bad utf-8", ""} {
		f.Add(uint16(401), []byte(s), false, "text/plain")
		f.Add(uint16(400), []byte(s), false, "text/html")
	}
	f.Add(uint16(500), []byte("PDOException: duplicate uid"), false, "")
	f.Add(uint16(204), []byte(nil), false, "")
	var cur struct {
		mu     sync.Mutex // the handler runs in the server's goroutine
		status uint16
		body   []byte
		sign   bool
		ctype  string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur.mu.Lock()
		defer cur.mu.Unlock()
		if cur.ctype != "" {
			w.Header()["Content-Type"] = []string{cur.ctype}
		}
		if cur.sign {
			w.Header()[HeaderServerSignature] = []string{Sign(fuzzServerKey, cur.body)}
		}
		w.WriteHeader(int(cur.status))
		w.Write(cur.body)
	}))
	f.Cleanup(srv.Close)
	a := fuzzAdapter(f, protocoltest.FuzzDir(f), srv.URL)
	f.Fuzz(func(t *testing.T, status uint16, body []byte, sign bool, ctype string) {
		// Status codes net/http can send; 1xx are informational and never final.
		cur.mu.Lock()
		cur.status, cur.body, cur.sign, cur.ctype = 200+status%400, body, sign, strings.Map(headerSafe, ctype)
		if cur.status == http.StatusNoContent || cur.status == http.StatusNotModified {
			cur.body = nil
		}
		cur.mu.Unlock()
		a.st = persisted{APIURL: srv.URL, ServerKey: fuzzServerKey}
		ok, err := a.report(context.Background(), json.RawMessage(`"12"`), StateSucceeded, pi(0), "done", nil)
		if err != nil {
			if ok || !strings.Contains(err.Error(), MethodJobState) {
				t.Fatalf("error %q does not name %s", err, MethodJobState)
			}
			var se *ServerError
			if errors.As(err, &se) && (len(se.Body) > 512+len("…") || !utf8Valid(se.Body)) {
				t.Fatalf("server refusal kept as %d bytes of %q", len(se.Body), se.Body)
			}
			return
		}
		if cur.status != http.StatusOK {
			t.Fatalf("HTTP %d accepted as an answer", cur.status)
		}
	})
}

func headerSafe(r rune) rune {
	if r < 0x20 || r >= 0x7f {
		return -1
	}
	return r
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// FuzzDownloadAnswer fetches a package from a server answering fuzzed status, headers and body.
func FuzzDownloadAnswer(f *testing.F) {
	zipLike := []byte("PK\x03\x04 a package body")
	f.Add(uint16(200), "application/zip", int16(-1), "", zipLike)
	f.Add(uint16(200), "application/octet-stream", int16(5), "", zipLike)
	f.Add(uint16(206), "application/zip", int16(-1), "bytes 0-19/20", zipLike)
	f.Add(uint16(206), "application/zip", int16(-1), "bytes 0-19/*", zipLike)
	f.Add(uint16(200), "application/json", int16(-1), "", []byte(`{"error":"Package not found"}`))
	f.Add(uint16(200), "text/html; charset=UTF-8", int16(-1), "", []byte(`<html>login</html>`))
	f.Add(uint16(404), "text/plain", int16(-1), "", []byte("Package Not Found"))
	f.Add(uint16(200), "", int16(-2), "", zipLike) // no Content-Length at all
	var cur struct {
		mu     sync.Mutex // the handler runs in the server's goroutine
		status uint16
		ctype  string
		length int16
		crange string
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur.mu.Lock()
		defer cur.mu.Unlock()
		h := w.Header()
		if cur.ctype != "" {
			h["Content-Type"] = []string{cur.ctype}
		}
		if cur.crange != "" {
			h["Content-Range"] = []string{cur.crange}
		}
		switch {
		case cur.length == -2: // chunked: no length announced
			h.Set("Transfer-Encoding", "chunked")
			w.WriteHeader(int(cur.status))
			w.Write(cur.body)
			w.(http.Flusher).Flush()
			return
		case cur.length >= 0:
			h.Set("Content-Length", fmt.Sprint(cur.length))
		}
		w.WriteHeader(int(cur.status))
		w.Write(cur.body)
	}))
	f.Cleanup(srv.Close)
	a := fuzzAdapter(f, protocoltest.FuzzDir(f), srv.URL)
	f.Fuzz(func(t *testing.T, status uint16, ctype string, length int16, crange string, body []byte) {
		cur.mu.Lock()
		cur.status, cur.ctype, cur.length, cur.crange, cur.body = 200+status%400, strings.Map(headerSafe, ctype), length, strings.Map(headerSafe, crange), body
		if cur.status == http.StatusNoContent || cur.status == http.StatusNotModified {
			cur.body = nil
		}
		cur.mu.Unlock()
		a.st = persisted{APIURL: srv.URL, ServerKey: fuzzServerKey, LastRequestTS: a.st.LastRequestTS}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		file, err := a.download(ctx, job{ID: json.RawMessage(`"12"`), IDText: "12", PackageID: json.RawMessage(`"5"`)})
		if err != nil {
			if file != nil || !strings.Contains(err.Error(), "5") {
				t.Fatalf("download error %q does not name the package", err)
			}
			return
		}
		defer os.Remove(file.Path)
		if file.Size != int64(len(cur.body)) {
			t.Fatalf("accepted %d bytes of a %d byte body", file.Size, len(cur.body))
		}
		if cur.status != http.StatusOK && cur.status != http.StatusPartialContent {
			t.Fatalf("HTTP %d accepted as a package", cur.status)
		}
	})
}

// FuzzEventRules covers the server's event queries (log, query, since), read without I/O.
func FuzzEventRules(f *testing.F) {
	for _, s := range []string{
		`[{"log":"journalctl","query":"ssh","since":"2026-01-01 00:00:00"}]`,
		`[{"log":"System","query":"*[System[(EventID=41)]]","since":null},{"log":5,"query":[],"since":"yesterday"}]`,
		`{"log":"x"}`, `[]`, `null`, `[null,1,"x"]`,
	} {
		f.Add([]byte(s))
	}
	a := fuzzAdapter(f, protocoltest.FuzzDir(f), "https://oco.invalid/api-agent.php")
	f.Fuzz(func(t *testing.T, raw []byte) {
		a.readEvents = func(context.Context, eventlog.Query) ([]eventlog.Event, error) { return nil, nil }
		n, err := a.events(context.Background(), json.RawMessage(raw))
		if n != 0 || err != nil {
			t.Fatalf("no event was found, yet events = %d, %v", n, err)
		}
	})
}

// FuzzNextTimestamp covers the request timestamp computed from the clock and the last one sent,
// which comes from the state file: it must always end and always go up.
func FuzzNextTimestamp(f *testing.F) {
	f.Add(1795340000.12344, 0.0)
	f.Add(1795340000.1234, 1795340000.1234)
	f.Add(1000.0, 2000.5)
	f.Add(1795340000.0, 1e20)
	f.Add(0.0, math.MaxFloat64)
	f.Fuzz(func(t *testing.T, now, last float64) {
		if math.IsNaN(now) || math.IsInf(now, 0) || math.IsNaN(last) || math.IsInf(last, 0) {
			return // neither a clock nor a decoded JSON number can be one
		}
		ts := nextTimestamp(now, last)
		if !(ts > last) {
			t.Fatalf("nextTimestamp(%v, %v) = %v, not above the last one", now, last, ts)
		}
	})
}

// FuzzStateFile covers this server's own state file (hand-edited, from an older agent, or
// damaged): loading it and building the next signed request must end, with or without error.
func FuzzStateFile(f *testing.F) {
	for _, s := range []string{
		`{"api_url":"https://oco.example/api-agent.php","url_source":"config","agent_key":"k","server_key":"` + fuzzServerKey + `","key_hostname":"pc1","last_request_ts":1795340000.1234,"last_server_ts":1795340000.5,"mode":"hmac","signed_answer_seen":true,"in_flight_job":{"id":"12","container_id":"3","started":"2026-01-02T03:04:05Z"},"unreported_results":[{"id":"12","state":3,"return_code":0,"message":"ok"},{"id":7,"state":-1,"return_code":-9999,"message":"x"}],"inventory_hash":"abc","inventory_sent":"2026-01-02T03:04:05Z"}`,
		`{"api_url":"https://oco.example/api-agent.php","last_request_ts":1e20}`,
		`{"api_url":"https://oco.example/api-agent.php","last_request_ts":1.7976931348623157e308}`,
		`{"api_url":"::not a url","mode":"legacy","key_hostname":"PC2"}`,
		`{"in_flight_job":{"id":null},"unreported_results":[{"id":null}]}`,
		`{"last_request_ts":"x"}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	a := fuzzAdapter(f, protocoltest.FuzzDir(f), "https://oco.invalid/api-agent.php")
	path := a.d.State.Path()
	f.Fuzz(func(t *testing.T, data []byte) {
		file := []byte(`{"schema":1,"saved":"2026-01-02T03:04:05Z","data":` + string(data) + `}`)
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		a.st, a.loaded = persisted{}, false
		if err := a.load(); err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("state error %q does not name the file", err)
			}
			return
		}
		last := a.st.LastRequestTS
		a.details()
		a.dropUnofferedResults(map[string]bool{"12": true})
		req, err := a.newRequest(context.Background(), http.MethodPost, MethodHello, map[string]any{}, nil)
		if err != nil {
			return
		}
		if a.mode() != ModeLegacy && !(a.st.LastRequestTS > last) {
			t.Fatalf("request timestamp %v is not above the last one %v", a.st.LastRequestTS, last)
		}
		if req.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("request without JSON content type: %v", req.Header)
		}
	})
}

func TestPostActionDelay(t *testing.T) {
	for _, tc := range []struct {
		minutes int64
		want    time.Duration
		ok      bool
	}{
		{0, 0, true},
		{10, 10 * time.Minute, true},
		{7 * 24 * 60, 7 * 24 * time.Hour, true},
		{7*24*60 + 1, 0, false},
		{153722867280912931, 0, false}, // overflows time.Duration when multiplied by a minute
		{math.MaxInt64, 0, false},
		{-1, 0, false},
	} {
		got, err := postActionDelay(tc.minutes)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("postActionDelay(%d) = %v, %v; want %v (ok %v)", tc.minutes, got, err, tc.want, tc.ok)
		}
	}
}
