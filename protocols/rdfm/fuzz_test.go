package rdfm

// Fuzz tests of everything an RDFM server sends: management WebSocket requests, auth and
// update-check answers, file requests. The standard is a clear error (or the protocol's
// refusal reply), never a panic, a hang, a malformed reply, or a file served from outside
// fs_allowed_paths. Without -fuzz they run their seed corpus (and testdata/fuzz/...) as ordinary
// tests.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
)

// canned answers every request with one (status, body, headers) and counts the bytes sent.
type canned struct {
	mu     sync.Mutex
	code   int
	body   []byte
	header http.Header
	sent   int64
	calls  int
}

func (c *canned) RoundTrip(r *http.Request) (*http.Response, error) {
	var n int64
	if r.Body != nil {
		n, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	c.mu.Lock()
	c.sent += n
	c.calls++
	c.mu.Unlock()
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: c.code, Header: h, Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

func httpCode(c int) int {
	if c < 100 || c > 599 {
		return 200
	}
	return c
}

// fsTree is an allowed folder with files and links, and an outside folder it must not leak.
type fsTree struct {
	base, allowed, outside, secret string
}

func newFSTree(t testing.TB) *fsTree {
	t.Helper()
	base := t.TempDir()
	tr := &fsTree{base: base, allowed: filepath.Join(base, "allowed"), outside: filepath.Join(base, "outside")}
	tr.secret = filepath.Join(tr.outside, "secret")
	for _, d := range []string{filepath.Join(tr.allowed, "sub"), tr.outside, filepath.Join(base, "allowed-sibling")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(tr.allowed, "app.log"), bytes.Repeat([]byte("log line\n"), 100), 0o644)
	os.WriteFile(filepath.Join(tr.allowed, "sub", "b.log"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(tr.allowed, "empty"), nil, 0o644)
	os.WriteFile(tr.secret, []byte("secret"), 0o600)
	os.WriteFile(filepath.Join(base, "allowed-sibling", "x"), []byte("x"), 0o600)
	if runtime.GOOS != "windows" {
		os.Symlink(tr.secret, filepath.Join(tr.allowed, "abs-out"))
		os.Symlink("../outside/secret", filepath.Join(tr.allowed, "rel-out"))
		os.Symlink(tr.outside, filepath.Join(tr.allowed, "dir-out"))
		os.Symlink("app.log", filepath.Join(tr.allowed, "in-link"))
		os.Symlink("loop", filepath.Join(tr.allowed, "loop"))
	}
	return tr
}

func (tr *fsTree) expand(s string) string {
	return strings.NewReplacer("{allowed}", tr.allowed, "{out}", tr.outside, "{base}", tr.base).Replace(s)
}

// inside says whether p (resolved) is the allowed folder's own file, independently of
// allowedFile's logic.
func (tr *fsTree) inside(t *testing.T, p string) bool {
	t.Helper()
	root, err := filepath.EvalSymlinks(tr.allowed)
	if err != nil {
		t.Fatal(err)
	}
	return strings.HasPrefix(p, root+string(filepath.Separator))
}

func fuzzAdapter(t testing.TB, opts *Options, rt http.RoundTripper) *Adapter {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	c := &http.Client{Transport: rt}
	u, _ := url.Parse("http://rdfm.test")
	return &Adapter{
		d: protocols.Deps{Server: config.Server{Name: "fuzz"}, Logger: log,
			Jobs: jobs.New(jobs.Options{Server: "fuzz", SpoolDir: t.TempDir(), Logger: log, Timeout: time.Second})},
		opts: opts, log: log, client: c, wsClient: c, base: u,
		now: func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) },
		st:  persisted{MAC: "aa:bb:cc:dd:ee:01", SoftwareVersion: "1.0"}, loaded: true,
	}
}

func FuzzParseResize(f *testing.F) {
	for _, s := range []string{"resize 24 80", "resize 0 80", "resize 65535 65535", "resize 99999 1", "resize  24 80", "resize 24 80\n", "resize -1 2", "resize ٣ 4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sz, ok := ParseResize(s)
		if ok && (sz.Rows == 0 || sz.Cols == 0) {
			t.Fatalf("%q: size %+v accepted", s, sz)
		}
		if !ok && sz != (jobs.Size{}) {
			t.Fatalf("%q: refused with size %+v", s, sz)
		}
	})
}

// FuzzAllowedFile asks for any path: only non-empty regular files under fs_allowed_paths
// (after resolving every link) may come back.
func FuzzAllowedFile(f *testing.F) {
	for _, s := range []string{
		"{allowed}/app.log", "{allowed}/sub/b.log", "{allowed}/empty", "{allowed}/sub", "{allowed}",
		"{allowed}/abs-out", "{allowed}/rel-out", "{allowed}/dir-out/secret", "{allowed}/in-link", "{allowed}/loop",
		"{allowed}/../outside/secret", "{allowed}/sub/../../outside/secret", "{allowed}-sibling/x", "{out}/secret",
		"{allowed}/./app.log", "{allowed}//app.log", "app.log", "", "/", "/etc/passwd", "{allowed}/app.log\x00",
		"{allowed}/missing",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tr := newFSTree(t)
		o := NewOptions()
		o.FSAllowedPaths = []string{tr.allowed}
		a := fuzzAdapter(t, o, &canned{code: 200})
		name = tr.expand(name)
		real, size, err := a.allowedFile(name)
		if err != nil {
			if real != "" || size != 0 || err.Error() == "" {
				t.Fatalf("%q: error %v with %q, %d", name, err, real, size)
			}
			return
		}
		if !tr.inside(t, real) {
			t.Fatalf("%q resolved to %q, outside %s", name, real, tr.allowed)
		}
		fi, err := os.Lstat(real)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != size || size == 0 {
			t.Fatalf("%q -> %q: %v, size %d", name, real, err, size)
		}
		if si, _ := os.Stat(tr.secret); os.SameFile(fi, si) {
			t.Fatalf("%q leaks the outside secret", name)
		}
	})
}

// FuzzUploadParts checks the part arithmetic of fs_file_download with any part size and URL
// count: either exactly the file's bytes go out, one ETag per URL, or a clear error.
func FuzzUploadParts(f *testing.F) {
	f.Add("{allowed}/app.log", int64(900), uint8(1), "\"etag\"")
	f.Add("{allowed}/app.log", int64(100), uint8(9), "p")
	f.Add("{allowed}/app.log", int64(101), uint8(9), "p")
	f.Add("{allowed}/app.log", int64(0), uint8(1), "p")
	f.Add("{allowed}/app.log", int64(-1), uint8(1), "p")
	f.Add("{allowed}/app.log", int64(9223372036854775807), uint8(1), "p")
	f.Add("{allowed}/app.log", int64(9223372036854775000), uint8(1), "p")
	f.Add("{allowed}/sub/b.log", int64(1), uint8(1), "")
	f.Add("{allowed}/abs-out", int64(6), uint8(1), "p")
	f.Fuzz(func(t *testing.T, name string, partSize int64, n uint8, etag string) {
		tr := newFSTree(t)
		o := NewOptions()
		o.FSAllowedPaths = []string{tr.allowed}
		rt := &canned{code: 200, header: http.Header{}}
		if etag != "" {
			rt.header.Set("ETag", etag)
		}
		a := fuzzAdapter(t, o, rt)
		urls := make([]string, int(n)%64)
		for i := range urls {
			urls[i] = fmt.Sprintf("http://s3.test/part%d", i)
		}
		real, size, ferr := a.allowedFile(tr.expand(name))
		etags, err := a.uploadParts(context.Background(), tr.expand(name), urls, partSize)
		if err != nil {
			if etags != nil || err.Error() == "" {
				t.Fatalf("error %v with etags %v", err, etags)
			}
			return
		}
		if ferr != nil || !tr.inside(t, real) {
			t.Fatalf("uploaded %q (%v)", name, ferr)
		}
		if len(etags) != len(urls) || rt.sent != size || rt.calls != len(urls) {
			t.Fatalf("%d etags for %d urls; %d bytes in %d PUTs for a %d byte file", len(etags), len(urls), rt.sent, rt.calls, size)
		}
	})
}

// FuzzAuthAnswer feeds any answer to the device authentication.
func FuzzAuthAnswer(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := PublicPEM(&key.PublicKey)
	f.Add(200, []byte(`{"expires":300,"token":"eyJhbGciOiJIUzI1NiJ9.eyJkZXZpY2VfaWQiOiJhYTpiYiJ9.sig"}`))
	f.Add(200, []byte(`{"expires":0,"token":"x"}`))
	f.Add(200, []byte(`{"expires":-300,"token":"x"}`))
	f.Add(200, []byte(`{"expires":9223372036854775807,"token":"x"}`))
	f.Add(200, []byte(`{"expires":9300000000,"token":"x"}`))
	f.Add(200, []byte(`{"expires":"300","token":"x"}`))
	f.Add(200, []byte(`{"expires":300}`))
	f.Add(200, []byte(`<html>`))
	f.Add(401, []byte(`{"error":"device unauthorized"}`))
	f.Add(400, []byte(`{"error":"signature verification failed"}`))
	f.Add(415, []byte(`<html>Unsupported Media Type</html>`))
	f.Add(500, []byte(`{"error":"registration failed"}`))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		a := fuzzAdapter(t, NewOptions(), &canned{code: httpCode(code), body: body})
		a.key, a.st.PublicKey = key, pub
		err := a.ensureToken(context.Background(), "")
		if err != nil {
			if a.token != "" || err.Error() == "" {
				t.Fatalf("error %v with token %q", err, a.token)
			}
			if httpCode(code) == http.StatusUnauthorized && !errors.Is(err, ErrPending) {
				t.Fatalf("401 gave %v, want ErrPending", err)
			}
			return
		}
		if a.token == "" || a.tokTTL <= 0 || a.tokTTL > maxTokenLifetime {
			t.Fatalf("token %q for %s", a.token, a.tokTTL)
		}
		if !a.tokenFresh() && a.tokTTL > 20*time.Second {
			t.Fatalf("a %s token is not fresh right after auth", a.tokTTL)
		}
	})
}

// FuzzUpdateCheckAnswer feeds any answer to update/check (no install command: the decision is
// under test, not the install).
func FuzzUpdateCheckAnswer(f *testing.F) {
	sha := strings.Repeat("d89c", 16)
	f.Add(200, []byte(`{"created":"Sun, 22 Nov 2026 09:37:51 GMT","id":1,"sha256":"`+sha+`","uri":"http://127.0.0.1:5000/local_storage/9b1b"}`))
	f.Add(200, []byte(`{"id":-1,"sha256":"`+strings.ToUpper(sha)+`","uri":"x"}`))
	f.Add(200, []byte(`{"id":1,"sha256":"abc","uri":"http://x/"}`))
	f.Add(200, []byte(`{"id":"1","sha256":"`+sha+`","uri":"http://x/"}`))
	f.Add(200, []byte(`{"id":1,"sha256":"`+sha+`"}`))
	f.Add(200, []byte(`null`))
	f.Add(200, []byte(``))
	f.Add(204, []byte(``))
	f.Add(400, []byte(`{"error":"schema validation failed"}`))
	f.Add(500, []byte(`{"error":"provided MAC address does not match any device"}`))
	f.Add(401, []byte(`{"error":"invalid token was provided"}`))
	key, err := rsa.GenerateKey(rand.Reader, 2048) // only for a 401's re-auth
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		a := fuzzAdapter(t, NewOptions(), &canned{code: httpCode(code), body: body})
		a.token, a.tokAt, a.tokTTL, a.key = "tok", time.Now(), time.Hour, key
		a.updMu.Lock() // checkUpdate runs with updMu held (not mu), as in a cycle
		res, err := a.checkUpdate(context.Background())
		a.updMu.Unlock()
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if res.Summary == "" {
			t.Fatalf("no error and no summary: %+v", res)
		}
	})
}

// deviceFields are the only device→server methods and their required non-null fields
// (shared/protocols/rdfm.md §3.5): anything else makes the server close the socket.
var deviceFields = map[string][]string{
	"capability_report":      {"capabilities"},
	"action_list_update":     {"actions"},
	"action_exec_control":    {"execution_id", "status"},
	"action_exec_result":     {"execution_id", "status_code", "output"},
	"fs_file_probe_reply":    {"id", "status", "size"},
	"fs_file_download_reply": {"id", "status", "etags"},
	"update_progress":        {"progress"},
	"update_version":         {"version"},
}

// checkDeviceMessage fails on a message the RDFM server would refuse.
func checkDeviceMessage(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("device sent non-JSON %q", data)
	}
	method, _ := m["method"].(string)
	fields, ok := deviceFields[method]
	if !ok {
		t.Fatalf("device sent method %q: %s", method, data)
	}
	for _, f := range fields {
		if v, ok := m[f]; !ok || v == nil {
			t.Fatalf("device sent %s without %s: %s", method, f, data)
		}
	}
	switch method {
	case "action_exec_control":
		if s := m["status"]; s != "ok" && s != "full" {
			t.Fatalf("control status %v", s)
		}
	case "action_exec_result":
		if _, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["output"])); err != nil {
			t.Fatalf("output is not base64: %s", data)
		}
	case "fs_file_probe_reply", "fs_file_download_reply":
		if s := m["status"]; s != 0.0 && s != 1.0 {
			t.Fatalf("fs status %v", s)
		}
		if _, ok := m["etags"].([]any); method == "fs_file_download_reply" && !ok {
			t.Fatalf("etags is not a list: %s", data)
		}
	case "action_list_update":
		if _, ok := m["actions"].([]any); !ok {
			t.Fatalf("actions is not a list: %s", data)
		}
	}
	return m
}

// FuzzSessionMessage sends any frame on a live management session, then a probe whose reply
// proves the session is still serving; every device message on the way must be valid.
func FuzzSessionMessage(f *testing.F) {
	tr := newFSTree(f)
	for _, s := range []string{
		`{"method":"alert","alert":{"message":"connected"}}`,
		`{"method":"action_list_query"}`,
		`{"method":"action_exec","execution_id":"e600a2af-0000-4000-8000-000000000001","action_id":"hello"}`,
		`{"method":"action_exec","execution_id":"e2","action_id":"nope"}`,
		`{"method":"action_exec"}`,
		`{"method":"fs_file_probe","id":"a7902bbd","file":"{allowed}/app.log"}`,
		`{"method":"fs_file_probe","id":"p2","file":"{allowed}/rel-out"}`,
		`{"method":"fs_file_probe","id":null,"file":42}`,
		`{"method":"fs_file_download","id":"6f3701e2","file":"{allowed}/app.log","upload_urls":["http://s3.test/p0"],"part_size":900}`,
		`{"method":"fs_file_download","id":"d2","file":"{allowed}/app.log","upload_urls":["http://s3.test/p0","http://s3.test/p1"],"part_size":450}`,
		`{"method":"fs_file_download","id":"d3","file":"{out}/secret","upload_urls":["http://s3.test/p0"],"part_size":6}`,
		`{"method":"fs_file_download","id":"d4","file":"{allowed}/app.log","upload_urls":null,"part_size":-1}`,
		`{"method":"shell_attach","mac_addr":"aa:bb:cc:dd:ee:01","uuid":"0b8e1a2c-5f7d-4e8a-9c1b-2d3e4f5a6b7c"}`,
		`{"method":"shell_attach","mac_addr":"../../x","uuid":"?#"}`,
		`{"method":"update_version"}`,
		`{"method":42}`,
		`[]`,
		`null`,
		`{`,
	} {
		f.Add(false, []byte(tr.expand(s)))
	}
	f.Add(true, []byte{0x00, 0x01})

	o := NewOptions()
	o.FSAllowedPaths = []string{tr.allowed}
	o.ActionQueue = 1
	o.Actions = []Action{{ID: "hello", Name: "Hello", Command: []string{"true"}, Timeout: config.Duration(time.Second)}}
	up := &canned{code: 200, header: http.Header{"Etag": {`"e"`}}}
	a := fuzzAdapter(f, o, up) // allow_exec off: actions are answered "refused"

	conns := make(chan *websocket.Conn, 1)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		conns <- c
		<-done
	}))
	ctx, cancel := context.WithCancel(context.Background())
	dev, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		f.Fatal(err)
	}
	dev.SetReadLimit(1 << 20)
	mgr := <-conns
	mgr.SetReadLimit(1 << 20)
	s := &session{a: a, c: dev, slots: make(chan struct{}, o.ActionQueue), activity: make(chan struct{}, 1)}
	ended := make(chan error, 1)
	go func() { ended <- s.run(ctx) }()
	f.Cleanup(func() {
		cancel()
		close(done)
		dev.CloseNow()
		mgr.CloseNow()
		srv.Close()
	})
	n := 0
	f.Fuzz(func(t *testing.T, binary bool, msg []byte) {
		n++
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := mgr.Write(wctx, typ, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		sync := fmt.Sprintf("sync-%d-%d", os.Getpid(), n)
		probe, _ := json.Marshal(map[string]any{"method": "fs_file_probe", "id": sync, "file": tr.secret})
		if err := mgr.Write(wctx, websocket.MessageText, probe); err != nil {
			t.Fatalf("write probe: %v", err)
		}
		for {
			_, data, err := mgr.Read(wctx)
			if err != nil {
				select {
				case e := <-ended:
					t.Fatalf("the session ended on %q: %v", msg, e)
				default:
				}
				t.Fatalf("no reply to the probe after %q: %v", msg, err)
			}
			m := checkDeviceMessage(t, data)
			if m["method"] == "fs_file_probe_reply" && m["id"] == sync {
				if m["status"] != 1.0 {
					t.Fatalf("the outside secret was probed OK: %s", data)
				}
				return
			}
			if m["method"] == "fs_file_probe_reply" && m["status"] == 0.0 {
				var req struct{ File string }
				json.Unmarshal(msg, &req)
				if real, _, err := a.allowedFile(req.File); err != nil || !tr.inside(t, real) {
					t.Fatalf("probe of %q answered OK: %s", req.File, data)
				}
			}
		}
	})
}
