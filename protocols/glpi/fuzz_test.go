package glpi

// Fuzz tests of everything a GLPI (or FusionInventory, or glpiinventory plugin) server sends:
// the standard is a clear error, never a panic, a hang, an absurd delay or a file touched
// outside the job's roots. Without -fuzz they run their seed corpus (and testdata/fuzz/...) as
// ordinary tests.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
)

var fuzzNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// canned is a RoundTripper answering from a list of (status, Content-Type, body), the last one
// repeated; no network is touched.
type canned struct {
	answers []cannedAnswer
	n       int
	seen    []*http.Request
}

type cannedAnswer struct {
	code int
	ct   string
	body []byte
}

func (c *canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	c.seen = append(c.seen, r)
	a := c.answers[min(c.n, len(c.answers)-1)]
	c.n++
	h := http.Header{}
	if a.ct != "" {
		h.Set("Content-Type", a.ct)
	}
	return &http.Response{StatusCode: a.code, Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), Request: r}, nil
}

// httpCode maps any fuzzed number onto a status code a server could send.
func httpCode(c int) int {
	if c < 100 || c > 599 {
		return 200
	}
	return c
}

func fuzzAdapter(rt http.RoundTripper) *Adapter {
	c := &http.Client{Transport: rt}
	return &Adapter{
		deps:   protocols.Deps{Server: config.Server{Name: "fuzz", URL: "http://glpi.test/front/inventory.php"}},
		opts:   NewOptions(),
		log:    slog.New(slog.DiscardHandler),
		client: c, plain: c,
		st:  &persisted{DeviceID: "pc1-2026-11-30-12-00-00", AgentID: "3a4b5c6d-0001-4002-8003-0123456789ab"},
		now: func() time.Time { return fuzzNow },
	}
}

func zlibOf(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// checkNext fails when a server-given delay put the next contact in the past or beyond the cap.
func checkNext(t *testing.T, what string, next time.Time) {
	t.Helper()
	if next.IsZero() {
		return
	}
	if !next.After(fuzzNow) || next.Sub(fuzzNow) > maxExpiration {
		t.Fatalf("%s: next contact %s is %s from now, want within (0, %s]", what, next, next.Sub(fuzzNow), maxExpiration)
	}
}

func FuzzParseExpiration(f *testing.F) {
	for _, s := range []string{`24`, `"24"`, `"30m"`, `"1d"`, `"45s"`, `"2h"`, `null`, ``, `0`, `-5`, `"1w"`,
		`1.5`, `"99999999999999999999"`, `"9223372036854775807s"`, `"2160h"`, `"91d"`, `" 24"`, `"\u0032\u0034"`, `true`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := parseExpiration(raw)
		if err != nil {
			if d != 0 || err.Error() == "" {
				t.Fatalf("error %v with duration %s", err, d)
			}
			return
		}
		if d < 0 || d > maxExpiration {
			t.Fatalf("expiration %q = %s, want within [0, %s]", raw, d, maxExpiration)
		}
		if d == 0 && len(raw) != 0 && string(raw) != "null" {
			t.Fatalf("expiration %q = 0 without an error", raw)
		}
	})
}

func FuzzDecompress(f *testing.F) {
	doc := []byte(`{"status":"ok","expiration":"24"}`)
	f.Add(doc, ctJSON)
	f.Add(zlibOf(doc), ctZlib)
	f.Add(zlibOf(doc), "")
	f.Add(gzipOf(doc), ctGzip)
	f.Add(gzipOf(doc), "text/html; charset=utf-8")
	f.Add(zlibOf(bytes.Repeat([]byte("A"), 1<<17)), ctZlib) // over the limit once inflated
	f.Add([]byte{0x1b, 0x20, 0x00}, ctBrotli)
	f.Add([]byte{0x78, 0x9c, 0xff}, "")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		const limit = 1 << 16
		out, err := Decompress(body, ct, limit)
		if err != nil {
			if out != nil {
				t.Fatalf("error %v with %d bytes out", err, len(out))
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("%d bytes out, over the %d limit", len(out), limit)
		}
	})
}

// FuzzContactAnswer drives CONTACT (request, decompression, envelope, expiration, tasks,
// disabled) with any answer.
func FuzzContactAnswer(f *testing.F) {
	seeds := []string{
		`{"status":"ok","expiration":"24","tasks":{"inventory":{"server":"glpi","version":"10.0.12"},"deploy":{"version":"1.5.8","server":"glpiinventory"}}}`,
		`{"status":"ok","expiration":24,"tasks":{"inventory":{"server":"glpi","no-category":"software,process"}},"disabled":["deploy"]}`,
		`{"status":"ok","expiration":"1d","disabled":"inventory","message":"hello"}`,
		`{"status":"pending","expiration":"5m"}`,
		`{"status":"error","message":"busy server","expiration":"30s"}`,
		`{"status":"ok","expiration":"0"}`,
		`{"status":"ok","expiration":"999999999999d"}`,
		`{"status":"ok","tasks":{"deploy":"glpiinventory"},"expiration":"2h","disabled":[1,2]}`,
		`{"status":"ok","tasks":[],"expiration":"2h"}`,
		`{"RESPONSE":"SEND"}`,
		`Inventory is disabled`,
		`<?xml version="1.0"?><REPLY><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>`,
		``,
	}
	for _, s := range seeds {
		f.Add(200, ctJSON, []byte(s))
	}
	f.Add(200, ctZlib, zlibOf([]byte(seeds[0])))
	f.Add(200, ctGzip, gzipOf([]byte(seeds[1])))
	f.Add(503, ctJSON, []byte(`{"status":"error","message":"busy server","expiration":"1h"}`))
	f.Add(400, ctJSON, []byte(`{"status":"error","message":"bad request","expiration":24}`))
	f.Add(500, "text/html", []byte(`<html>oops</html>`))
	f.Add(415, ctJSON, []byte(`{"status":"error","message":"brotli not supported"}`))
	f.Fuzz(func(t *testing.T, code int, ct string, body []byte) {
		rt := &canned{answers: []cannedAnswer{{httpCode(code), ct, body}}}
		a := fuzzAdapter(rt)
		a.opts.Compression = CompressBrotli // exercises the brotli refusal fallback too
		ans, err := a.contact(context.Background())
		checkNext(t, "CONTACT", a.st.NextContact)
		if err != nil {
			if ans != nil || err.Error() == "" {
				t.Fatalf("error %v with an answer %+v", err, ans)
			}
			return
		}
		if ans.Status != "ok" && ans.Status != "pending" {
			t.Fatalf("accepted status %q", ans.Status)
		}
		if a.st.MaxDelay <= 0 || a.st.MaxDelay > maxExpiration || !a.st.NextContact.Equal(fuzzNow.Add(a.st.MaxDelay)) {
			t.Fatalf("max delay %s, next contact %s", a.st.MaxDelay, a.st.NextContact)
		}
		if ti, ok := ans.task("deploy"); a.st.Deploy.Enabled && (!ok || ti.Server != "glpiinventory") {
			t.Fatalf("deploy enabled by tasks %v", ans.Tasks)
		}
		// What contactCycle reads next: every task entry and the disabled list.
		for name := range ans.Tasks {
			if ti, ok := ans.task(name); ok && name == "inventory" && ti.NoCategory != "" {
				if len(strings.Split(ti.NoCategory, ",")) == 0 {
					t.Fatal("no-category split to nothing")
				}
			}
		}
		// disabled may hold anything (even ""): only the names it lists are matched.
		if contains(ans.disabledList(), "deploy") && a.st.Deploy.Enabled {
			t.Fatalf("deploy enabled though disabled lists it: %s", ans.Disabled)
		}
	})
}

// FuzzPrologAnswer drives the XML PROLOG against any answer (FusionInventory or GLPI 10+).
func FuzzPrologAnswer(f *testing.F) {
	for _, s := range []string{
		"<?xml version=\"1.0\"?>\n<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>",
		"<REPLY><PROLOG_FREQ>1</PROLOG_FREQ><RESPONSE>NO_UPDATE</RESPONSE></REPLY>",
		"<REPLY><ERROR><![CDATA[XML not well formed!]]></ERROR></REPLY>",
		"<?xml version=\"1.0\"?>\n<REPLY></REPLY>",
		"<REPLY><PROLOG_FREQ> 12 </PROLOG_FREQ><OPTION><NAME>DOWNLOAD</NAME></OPTION></REPLY>",
		"<REPLY><PROLOG_FREQ>9999999999999</PROLOG_FREQ></REPLY>",
		"<REPLY><PROLOG_FREQ>-3</PROLOG_FREQ></REPLY>",
		`{"expiration":"24","status":"ok"}`,
		`{"status":"error","message":"unknown deviceid","expiration":24}`,
		`{"status":"ok"}`,
		"<REPLY><PROLOG_FREQ>24</PROLOG_FREQ>",
	} {
		f.Add(200, ctXML, []byte(s))
	}
	f.Add(200, ctZlib, zlibOf([]byte("<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>")))
	f.Add(404, "text/html", []byte("<html>Not found</html>"))
	f.Fuzz(func(t *testing.T, code int, ct string, body []byte) {
		a := fuzzAdapter(&canned{answers: []cannedAnswer{{httpCode(code), ct, body}}})
		a.opts.Tasks = []string{"deploy"} // no inventory: PROLOG alone is under test
		mode, sum, err := a.prolog(context.Background())
		checkNext(t, "PROLOG", a.st.NextContact)
		if err != nil {
			if mode != modeUnknown || sum == "" || err.Error() == "" {
				t.Fatalf("error %v with mode %q summary %q", err, mode, sum)
			}
			return
		}
		switch mode {
		case modeXML:
			if a.st.MaxDelay <= 0 || a.st.MaxDelay > maxExpiration || a.st.NextContact.IsZero() {
				t.Fatalf("XML mode with max delay %s, next contact %s", a.st.MaxDelay, a.st.NextContact)
			}
		case modeJSON:
		default:
			t.Fatalf("no error and mode %q", mode)
		}
	})
}

// FuzzRegisterAnswers drives REGISTER with any first and second answer; the seeds pass the
// challenge with the fake server's key.
func FuzzRegisterAnswers(f *testing.F) {
	token, _ := parseBlock("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
	agent, _ := parseBlock("3a4b5c6d-0001-4002-8003-0123456789ab")
	g := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	s := [8]byte{9, 9, 9, 9, 8, 8, 8, 8}
	var c1, fin, k Block
	copy(c1[:8], s[:])
	copy(c1[8:], agent[8:])
	copy(fin[:8], g[:])
	copy(fin[8:], s[:])
	copy(k[:], "0123456789abcdef")
	first := fmt.Sprintf(`{"status":"pending","needs":"token-validation","expiration":"1m","challenge":%q}`, Encrypt(token, c1))
	final := fmt.Sprintf(`{"status":"registered","expiration":"30d","challenge":%q,"crypto":%q}`, Encrypt(token, fin), Encrypt(token, k))
	f.Add(200, []byte(first), 200, []byte(final))
	f.Add(200, []byte(first), 200, []byte(`{"status":"registered","expiration":"30d","challenge":"00000000-0000-0000-0000-000000000000"}`))
	f.Add(200, []byte(first), 200, []byte(`{"status":"error","message":"challenge failed","expiration":"1h"}`))
	f.Add(200, []byte(first), 200, []byte(strings.Replace(final, `"crypto":"`, `"crypto":"zz`, 1)))
	f.Add(200, []byte(`{"status":"registered","expiration":"30d"}`), 200, []byte(`{}`))
	f.Add(200, []byte(`{"status":"pending","needs":"manual-validation","expiration":"1h"}`), 200, []byte(`{}`))
	f.Add(200, []byte(`{"status":"error","message":"forbidden","expiration":"4h"}`), 200, []byte(`{}`))
	f.Add(400, []byte(`{"status":"error","message":"bad agentid","expiration":"1h"}`), 200, []byte(`{}`))
	f.Add(501, []byte(`not implemented`), 200, []byte(`{}`))
	f.Add(200, []byte(`{"status":"pending","needs":"token-validation","challenge":"short"}`), 200, []byte(`{}`))
	f.Fuzz(func(t *testing.T, code1 int, body1 []byte, code2 int, body2 []byte) {
		rt := &canned{answers: []cannedAnswer{{httpCode(code1), ctJSON, body1}, {httpCode(code2), ctJSON, body2}}}
		a := fuzzAdapter(rt)
		a.opts.Token = token.String()
		a.opts.Compression = CompressNone
		a.st.AgentID = agent.String()
		// A challenge answered "pending" waits for the server's expiration: bound it.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := a.register(ctx, func() [8]byte { return g })
		r := a.st.Register
		if r.Status != "" && (r.Until.Before(fuzzNow) || r.Until.Sub(fuzzNow) > maxExpiration) {
			t.Fatalf("register status %q until %s", r.Status, r.Until)
		}
		if r.Status == regRegistered && (r.Renew.After(r.Until) || r.Renew.Before(fuzzNow)) {
			t.Fatalf("renew %s after until %s", r.Renew, r.Until)
		}
		if r.Key != "" && len(r.Key) != 32 {
			t.Fatalf("key %q", r.Key)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// FuzzDeployConfig decodes getConfig answers as deployCycle does and checks the validity bound.
func FuzzDeployConfig(f *testing.F) {
	for _, s := range []string{
		`{"configValidityPeriod":600,"schedule":[{"task":"Deploy","remote":"http://glpi.test/plugins/glpiinventory/b/deploy/"}]}`,
		`{"configValidityPeriod":"600","schedule":[]}`,
		`{"configValidityPeriod":9223372036854775807,"schedule":[{"task":"Deploy","remote":"http://glpi.test/d/"}]}`,
		`{"configValidityPeriod":-1}`,
		`{"schedule":{"task":"Deploy"}}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rt := &canned{answers: []cannedAnswer{{200, ctJSON, body}, {200, ctJSON, []byte(`{"jobs":[],"associatedFiles":{}}`)}}}
		a := fuzzAdapter(rt)
		a.opts.PluginURL = "http://glpi.test/plugins/glpiinventory/"
		a.st.Deploy.Validity = 0
		sum, err := a.deployCycle(context.Background())
		if err != nil && (sum == "" || err.Error() == "") {
			t.Fatalf("error %v, summary %q", err, sum)
		}
		d := a.st.Deploy
		if d.Validity < 0 || d.Validity > 24*time.Hour {
			t.Fatalf("validity %s", d.Validity)
		}
		if !d.NextPoll.After(fuzzNow) || d.NextPoll.Sub(fuzzNow) > 24*time.Hour {
			t.Fatalf("next poll %s from now", d.NextPoll.Sub(fuzzNow))
		}
	})
}

// sandbox is a job's world: the staging folder's spool, one deploy_file_roots folder holding
// links to the outside, and an outside folder that must stay untouched.
type sandbox struct {
	base, root, outside string
	before              map[string]string
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	base := t.TempDir()
	s := &sandbox{base: base, root: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{s.root, s.outside, filepath.Join(s.outside, "sub"), filepath.Join(base, "spool")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(s.outside, "secret"), []byte("secret"), 0o600)
	os.WriteFile(filepath.Join(s.outside, "sub", "file"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(s.root, "payload.bin"), []byte("payload"), 0o644)
	os.MkdirAll(filepath.Join(s.root, "dir", "inner"), 0o755)
	os.WriteFile(filepath.Join(s.root, "dir", "inner", "f"), []byte("f"), 0o644)
	if runtime.GOOS != "windows" {
		os.Symlink(s.outside, filepath.Join(s.root, "out-dir"))
		os.Symlink(filepath.Join(s.outside, "secret"), filepath.Join(s.root, "out-file"))
		os.Symlink("../outside", filepath.Join(s.root, "rel-out"))
		// Reading either FIFO would block forever.
		mkfifo(filepath.Join(base, "fifo"))
		mkfifo(filepath.Join(s.root, "fifo"))
	}
	s.before = s.snapshot(t)
	return s
}

// snapshot lists the outside folder (and the base's own entries) with contents and modes.
func (s *sandbox) snapshot(t testing.TB) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(s.outside, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			m[p] = "error " + err.Error()
			return nil
		}
		fi, _ := d.Info()
		v := fmt.Sprint(fi.Mode())
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		m[p] = v
		return nil
	})
	ents, _ := os.ReadDir(s.base)
	for _, e := range ents {
		m["base:"+e.Name()] = e.Type().String()
	}
	return m
}

func (s *sandbox) check(t *testing.T) {
	t.Helper()
	after := s.snapshot(t)
	var diff []string
	for k, v := range s.before {
		if after[k] != v {
			diff = append(diff, fmt.Sprintf("%s: %q -> %q", k, v, after[k]))
		}
	}
	for k, v := range after {
		if _, ok := s.before[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: new %q", k, v))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		t.Fatalf("a job changed files outside its roots:\n%s", strings.Join(diff, "\n"))
	}
}

// expandSandbox lets the fuzzer aim at the sandbox's absolute paths.
func (s *sandbox) expand(p string) string {
	return strings.NewReplacer("{root}", s.root, "{out}", s.outside, "{base}", s.base).Replace(p)
}

// FuzzFileOps runs mkdir/copy/move/delete with any paths: nothing outside the job folder and
// the roots may change, symbolic links included.
func FuzzFileOps(f *testing.F) {
	for _, s := range [][3]string{
		{"mkdir", "newdir", ""},
		{"mkdir", "{root}/a/b", ""},
		{"mkdir", "../../outside/x", ""},
		{"mkdir", "{out}/x", ""},
		{"mkdir", "{root}/out-dir/x", ""},
		{"mkdir", "{root}/rel-out/x", ""},
		{"delete", "{root}/out-file", ""},
		{"delete", "{root}/out-dir/secret", ""},
		{"delete", "{root}", ""},
		{"delete", "{root}/..", ""},
		{"delete", "$HOME", ""},
		{"copy", "{root}/payload.bin", "{root}/dir/"},
		{"copy", "{root}/dir", "{root}/dir/inner/"},
		{"copy", "{root}/out-dir", "{root}/copied"},
		{"copy", "{root}/*", "x/"},
		{"copy", "{root}/payload.bin", "{out}/stolen"},
		{"copy", "{out}/secret", "{root}/stolen"},
		{"copy", "{root}/payload.bin", "{root}/out-dir/"},
		{"copy", "{root}/[", "x"},
		{"move", "{root}/payload.bin", "{root}/out-file"},
		{"move", "{root}/dir", "moved/"},
		{"move", "{root}/out-file", "y"},
		{"copy", "{root}/payload.bin", "{root}/payload.bin"},
		{"copy", "{root}/fifo", "x"},
		{"move", "{root}/dir", "{root}/dir"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, op, a, b string) {
		sb := newSandbox(t)
		work := filepath.Join(sb.base, "spool", "job")
		os.MkdirAll(work, 0o755)
		fx, err := newFileOps(work, []string{sb.root})
		if err != nil {
			t.Fatal(err)
		}
		defer fx.Close()
		a, b = sb.expand(a), sb.expand(b)
		switch op {
		case "mkdir":
			err = fx.mkdir(strings.Split(a, "\n"))
		case "delete":
			err = fx.remove(strings.Split(a, "\n"))
		case "copy", "move":
			err = fx.copy(a, b, op == "move")
		default:
			return
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		sb.check(t)
	})
}

// FuzzDeployJobs runs getJobs answers end to end (checks, file parts, actions) with a runner
// that may not execute commands; files may change only inside the job folder and the root.
func FuzzDeployJobs(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "deploy_getjobs_glpiinventory-1.5.8.json")); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		`{"jobs":[{"uuid":"j1","checks":[{"type":"fileExists","path":"{root}/payload.bin","return":"skip"}],"actions":[]}],"associatedFiles":{}}`,
		`{"jobs":[{"uuid":"j2","checks":[{"type":"fileSHA512","path":"{root}/payload.bin","value":"00","return":"info"},{"type":"fileSizeGreater","path":"{root}/payload.bin","value":3}],"actions":[{"mkdir":{"list":["{root}/made","../escape"]}}]}]}`,
		`{"jobs":[{"uuid":"j3","actions":[{"copy":{"from":"{root}/payload.bin","to":"{root}/out-dir/"}},{"delete":{"list":["{root}/out-file"]}}]}]}`,
		`{"jobs":[{"uuid":"j4","actions":[{"move":{"from":"{root}/dir","to":"{root}/rel-out"}}]}]}`,
		`{"jobs":[{"uuid":"j5","actions":[{"cmd":{"exec":"echo hi","retChecks":[{"type":"okPattern","values":["(a"]}],"logLineLimit":3}}]}]}`,
		`{"jobs":[{"uuid":"j6","actions":[{"cmd":{},"copy":{}}]},{"uuid":"","actions":[]}]}`,
		`{"jobs":[{"uuid":"j7","associatedFiles":["ab"],"actions":[]}],"associatedFiles":{"ab":{"name":"../../x","mirrors":["http://m/"],"multiparts":["a"]}}}`,
		`{"jobs":[{"uuid":"j8","associatedFiles":["abcd"],"actions":[]}],"associatedFiles":{"abcd":{"name":"ok.bin","mirrors":["http://m/","://bad"],"multiparts":["abcdef"],"uncompress":1}}}`,
		`{"jobs":[{"uuid":"j9","associatedFiles":["zz"],"actions":[]}]}`,
		`{"jobs":[{"uuid":"../../../x","checks":[{"type":"freespaceGreater","path":"{base}","value":"-1"},{"type":"winkeyExists","path":"HKLM\\x"},{"type":"nope"}]}]}`,
		`{"jobs":[{"uuid":"j10","checks":[{"type":"fileSHA512","path":"{base}/fifo","value":"x"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sb := newSandbox(t)
		body = []byte(strings.NewReplacer("{root}", jsonPath(sb.root), "{base}", jsonPath(sb.base), "{out}", jsonPath(sb.outside)).Replace(string(body)))
		var jl deployJobs
		if err := json.Unmarshal(body, &jl); err != nil {
			return
		}
		if len(jl.Jobs) > 4 {
			jl.Jobs = jl.Jobs[:4]
		}
		// Checks read the machine's state by design (fileExists /opt/...): keep them in the
		// sandbox so that the fuzzer does not hash the test machine's disks.
		confine := func(cs []deployCheck) {
			for i := range cs {
				p := filepath.Join(sb.base, cs[i].Path)
				if !strings.HasPrefix(p, sb.base) {
					p = sb.base
				}
				cs[i].Path = p
			}
		}
		for i := range jl.Jobs {
			confine(jl.Jobs[i].Checks)
		}
		// The plugin answers setStatus with {}; file parts are not found.
		rt := &canned{answers: []cannedAnswer{{200, ctJSON, []byte(`{}`)}}}
		a := fuzzAdapter(rt)
		a.plain = &http.Client{Transport: partsNotFound{rt}}
		a.opts.DeployFileRoots = []string{sb.root}
		a.deps.Jobs = jobs.New(jobs.Options{Server: "fuzz", SpoolDir: filepath.Join(sb.base, "spool"), Logger: slog.New(slog.DiscardHandler), Timeout: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, job := range jl.Jobs {
			for _, act := range job.Actions {
				for typ, raw := range act {
					if typ == "copy" || typ == "move" || typ == "mkdir" || typ == "delete" {
						var fa fileAction
						if json.Unmarshal(raw, &fa) == nil {
							confine(fa.Checks)
							act[typ], _ = json.Marshal(fa)
						}
					}
					if typ == "cmd" {
						var c cmdAction
						if json.Unmarshal(raw, &c) == nil {
							confine(c.Checks)
							act[typ], _ = json.Marshal(c)
						}
					}
				}
			}
			err := a.runJob(ctx, "http://glpi.test/plugins/glpiinventory/b/deploy/", job, jl.AssociatedFiles)
			if err != nil && err.Error() == "" {
				t.Fatal("empty error")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("job %q ran for more than 5 s: %v", job.UUID, err)
			}
		}
		sb.check(t)
	})
}

// jsonPath is p as the inside of a JSON string.
func jsonPath(p string) string {
	b, _ := json.Marshal(p)
	return string(b[1 : len(b)-1])
}

// partsNotFound answers 404 to file part downloads and delegates the rest.
type partsNotFound struct{ next http.RoundTripper }

func (p partsNotFound) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("action") == "" {
		return &http.Response{StatusCode: 404, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("no such part")), Request: r}, nil
	}
	return p.next.RoundTrip(r)
}

// FuzzRetCheck evaluates retChecks with any type, values and output.
func FuzzRetCheck(f *testing.F) {
	f.Add("okCode", "0", 0, "")
	f.Add("errorCode", "1\x002", 2, "")
	f.Add("okPattern", "^done$", 0, "done")
	f.Add("errorPattern", "FATAL|(a", 1, "FATAL: x")
	f.Add("errorPattern", "a{1000}{1000}", 1, "")
	f.Add("other", "", 0, "")
	f.Fuzz(func(t *testing.T, typ, values string, code int, out string) {
		rc := retCheck{Type: typ}
		for _, v := range strings.Split(values, "\x00") {
			rc.Values = append(rc.Values, flexString(v))
		}
		if err := evalRetCheck(rc, code, out); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// TestFileSHA512NotRegular pins the fix for a hang found while fuzzing checks: hashing a FIFO
// blocked in open and /dev/zero never ended.
func TestFileSHA512NotRegular(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFO or /dev/zero")
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, p := range []string{"/dev/zero", fifo, t.TempDir()} {
		for _, typ := range []string{"fileSHA512", "fileSHA512mismatch"} {
			done := make(chan bool, 1)
			go func() {
				ok, _ := evalCheck(deployCheck{Type: typ, Path: p, Value: "00"})
				done <- ok
			}()
			select {
			case ok := <-done:
				if ok != (typ == "fileSHA512mismatch") {
					t.Errorf("%s %s = %v", typ, p, ok)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s %s still running after 5 s", typ, p)
			}
		}
	}
}

// TestCopyIntoItself pins two fixes found while fuzzing file operations: a folder copied into
// its own subtree recursed without end, and a file copied onto itself was truncated (a move then
// deleted it).
func TestCopyIntoItself(t *testing.T) {
	tests := []struct {
		name, from, to string
		move           bool
		want           string
	}{
		{"folder into its subfolder", "{root}/dir", "{root}/dir/inner/", false, "into itself"},
		{"folder onto itself", "{root}/dir", "{root}/dir", true, "into itself"},
		{"file onto itself", "{root}/payload.bin", "{root}/payload.bin", false, "its own destination"},
		{"moved file onto itself", "{root}/payload.bin", "{root}/./payload.bin", true, "its own destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			work := filepath.Join(sb.base, "spool", "job")
			os.MkdirAll(work, 0o755)
			fx, _ := newFileOps(work, []string{sb.root})
			defer fx.Close()
			err := fx.copy(sb.expand(tt.from), sb.expand(tt.to), tt.move)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if b, err := os.ReadFile(filepath.Join(sb.root, "payload.bin")); err != nil || string(b) != "payload" {
				t.Fatalf("payload.bin = %q, %v", b, err)
			}
			if b, err := os.ReadFile(filepath.Join(sb.root, "dir", "inner", "f")); err != nil || string(b) != "f" {
				t.Fatalf("dir/inner/f = %q, %v", b, err)
			}
			sb.check(t)
		})
	}
}

// FuzzRegPath splits any registry path of a win* check.
func FuzzRegPath(f *testing.F) {
	for _, s := range []string{`HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App\Version`, `HKLM/SOFTWARE/x`, `HKCU`, `\\`, ``, `HKU\\\\a`, `foo\bar`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		hive, key, last, err := regPath(p)
		if err != nil {
			if hive != "" || err.Error() == "" {
				t.Fatalf("%q: error %v with hive %q", p, err, hive)
			}
			return
		}
		if hive == "" || strings.Contains(key+last, "/") {
			t.Fatalf("%q: hive %q key %q last %q", p, hive, key, last)
		}
	})
}
