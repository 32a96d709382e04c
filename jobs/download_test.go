package jobs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient"
)

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

func get(url string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
}

func spoolEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadVerifies(t *testing.T) {
	payload := randBytes(t, 3<<20+17)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "p.bin", time.Time{}, bytes.NewReader(payload))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		want *Hash
		ok   bool
	}{
		{"sha256", &Hash{"sha256", sha256Hex(payload)}, true},
		{"sha512 upper", &Hash{"SHA512", strings.ToUpper(sha512Hex(payload))}, true},
		{"none", nil, true},
		{"sha256 wrong", &Hash{"sha256", sha256Hex([]byte("other"))}, false},
		{"sha512 wrong", &Hash{"sha512", sha512Hex([]byte("other"))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spool := t.TempDir()
			r := New(Options{Server: "s", SpoolDir: spool})
			var ps []Progress
			f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL), Name: "../p.bin",
				Want: tc.want, Progress: func(p Progress) { ps = append(ps, p) }})
			if !tc.ok {
				if !errors.Is(err, ErrHashMismatch) || f != nil || !strings.Contains(err.Error(), "expected "+strings.ToLower(tc.want.Hex)) {
					t.Fatalf("f=%v err=%v", f, err)
				}
				if left := spoolEntries(t, spool); len(left) != 0 {
					t.Fatalf("files left after a mismatch: %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(f.Path)
			if !bytes.Equal(got, payload) || f.Size != int64(len(payload)) || f.SHA256 != sha256Hex(payload) {
				t.Fatalf("file %+v", f)
			}
			if tc.want != nil && !strings.EqualFold(f.Digest, tc.want.Hex) {
				t.Fatalf("digest %s", f.Digest)
			}
			checkProgress(t, ps, int64(len(payload)))
		})
	}
}

func checkProgress(t *testing.T, ps []Progress, size int64) {
	t.Helper()
	if len(ps) < 2 {
		t.Fatalf("progress %v", ps)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Bytes < ps[i-1].Bytes || ps[i].Percent < ps[i-1].Percent {
			t.Fatalf("progress not monotonic: %v", ps)
		}
	}
	last := ps[len(ps)-1]
	if last.Percent != 100 || last.Bytes != size || last.Total != size {
		t.Fatalf("last progress %+v", last)
	}
}

// cutServer serves payload with Range support, cutting the connection mid-body on the first
// `cuts` requests.
func cutServer(t *testing.T, payload []byte, cuts int32, ranges bool) (*httptest.Server, *[]string) {
	var n atomic.Int32
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Range"))
		mu.Unlock()
		start := 0
		if rg := r.Header.Get("Range"); rg != "" && ranges {
			s, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			start = s
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", s, len(payload)-1, len(payload)))
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)-s))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			if ranges {
				w.Header().Set("Accept-Ranges", "bytes")
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		}
		body := payload[start:]
		if n.Add(1) <= cuts {
			w.Write(body[:len(body)/3])
			w.(http.Flusher).Flush()
			// Hijack and close: the client sees a short body.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Write(body)
	}))
	return srv, &seen
}

func TestDownloadResumesWithRange(t *testing.T) {
	payload := randBytes(t, 2<<20+5)
	srv, seen := cutServer(t, payload, 2, true)
	defer srv.Close()
	r := New(Options{Server: "s", SpoolDir: t.TempDir()})
	var ps []Progress
	f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL), Name: "p",
		Want: &Hash{"sha256", sha256Hex(payload)}, Progress: func(p Progress) { ps = append(ps, p) }})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f.Path)
	if !bytes.Equal(got, payload) {
		t.Fatal("wrong bytes after resume")
	}
	if len(*seen) != 3 || (*seen)[0] != "" || !strings.HasPrefix((*seen)[1], "bytes=") || (*seen)[2] == (*seen)[1] {
		t.Fatalf("requests %q", *seen)
	}
	checkProgress(t, ps, int64(len(payload)))
}

func TestDownloadNoRangeSupportFailsCleanly(t *testing.T) {
	payload := randBytes(t, 1<<20)
	srv, seen := cutServer(t, payload, 1, false)
	defer srv.Close()
	spool := t.TempDir()
	r := New(Options{Server: "s", SpoolDir: spool})
	f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL), Name: "p"})
	if err == nil || f != nil || len(*seen) != 1 || len(spoolEntries(t, spool)) != 0 {
		t.Fatalf("f=%v err=%v seen=%q", f, err, *seen)
	}
}

func TestDownloadSizeCapAndStatus(t *testing.T) {
	payload := randBytes(t, 100000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked": // no Content-Length: the cap must hold while streaming
			w.Write(payload[:50000])
			w.(http.Flusher).Flush()
			w.Write(payload[50000:])
		case "/missing":
			http.Error(w, "nope", http.StatusNotFound)
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"error":"no such file"}`))
		default:
			w.Write(payload)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		path  string
		max   int64
		check func(*http.Response) error
		want  string
	}{
		{"/plain", 1000, nil, "cap"},
		{"/chunked", 60000, nil, "cap"},
		{"/missing", 0, nil, "404"},
		{"/json", 0, func(r *http.Response) error {
			if r.Header.Get("Content-Type") == "application/json" {
				return errors.New("server answered JSON, not a file")
			}
			return nil
		}, "not a file"},
	} {
		spool := t.TempDir()
		r := New(Options{Server: "s", SpoolDir: spool})
		f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL + tc.path), MaxBytes: tc.max, CheckResponse: tc.check})
		if err == nil || f != nil || !strings.Contains(err.Error(), tc.want) || len(spoolEntries(t, spool)) != 0 {
			t.Errorf("%s: f=%v err=%v", tc.path, f, err)
		}
	}
}

func TestDownloadCancelMidway(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000000")
		w.Write(make([]byte, 100000))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	spool := t.TempDir()
	r := New(Options{Server: "s", SpoolDir: spool})
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	time.AfterFunc(300*time.Millisecond, cancel)
	f, err := r.Download(ctx, Download{Client: srv.Client(), NewRequest: get(srv.URL)})
	if f != nil || !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second || len(spoolEntries(t, spool)) != 0 {
		t.Fatalf("f=%v err=%v", f, err)
	}
}

func gz(t *testing.T, chunks ...[]byte) []byte {
	var b bytes.Buffer
	for _, c := range chunks { // one gzip member per chunk, like the GLPI server
		w := gzip.NewWriter(&b)
		w.Write(c)
		w.Close()
	}
	return b.Bytes()
}

func TestDownloadPartsGLPI(t *testing.T) {
	whole := randBytes(t, 300000)
	p1 := gz(t, whole[:100000], whole[100000:150000]) // two members
	p2 := gz(t, whole[150000:])
	files := map[string][]byte{sha512Hex(p1): p1, sha512Hex(p2): p2}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Query().Get("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	part := func(b []byte, want string) Part {
		return Part{Download: Download{Client: srv.Client(), NewRequest: get(srv.URL + "/?file=" + sha512Hex(b)), Want: &Hash{"sha512", want}}, Gunzip: true}
	}
	spool := t.TempDir()
	r := New(Options{Server: "s", SpoolDir: spool})
	f, err := r.DownloadPartsWant(context.Background(), "payload.bin", []Part{part(p1, sha512Hex(p1)), part(p2, sha512Hex(p2))}, &Hash{"sha512", sha512Hex(whole)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f.Path)
	if !bytes.Equal(got, whole) || f.SHA512 != sha512Hex(whole) || f.Size != int64(len(whole)) {
		t.Fatalf("file %+v", f)
	}
	if left := spoolEntries(t, spool); len(left) != 1 {
		t.Fatalf("part files left: %v", left)
	}
	os.Remove(f.Path)

	// A part whose bytes do not match its sha512 fails the whole file and leaves nothing.
	f, err = r.DownloadParts(context.Background(), "payload.bin", []Part{part(p1, sha512Hex(p1)), part(p2, sha512Hex(p1))})
	if !errors.Is(err, ErrHashMismatch) || f != nil || !strings.Contains(err.Error(), "part 2 of 2") || len(spoolEntries(t, spool)) != 0 {
		t.Fatalf("f=%v err=%v left=%v", f, err, spoolEntries(t, spool))
	}
	// The joined file checked against a wrong whole-file key.
	f, err = r.DownloadPartsWant(context.Background(), "payload.bin", []Part{part(p1, sha512Hex(p1)), part(p2, sha512Hex(p2))}, &Hash{"sha512", sha512Hex(p1)})
	if !errors.Is(err, ErrHashMismatch) || f != nil || len(spoolEntries(t, spool)) != 0 {
		t.Fatalf("f=%v err=%v", f, err)
	}
	// Not gzip although marked.
	plain := []byte("not gzip at all")
	files[sha512Hex(plain)] = plain
	if _, err := r.DownloadParts(context.Background(), "x", []Part{part(plain, sha512Hex(plain))}); err == nil || !strings.Contains(err.Error(), "gunzip") {
		t.Fatalf("err=%v", err)
	}
}

func TestDownloadThroughServerClientIgnoresResponseLimit(t *testing.T) {
	payload := randBytes(t, 200000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(payload) }))
	defer srv.Close()
	c, err := httpclient.New(httpclient.Options{Server: "s", MaxResponse: 1000, Proxy: "none"})
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Server: "s", SpoolDir: t.TempDir()})
	f, err := r.Download(context.Background(), Download{Client: c, NewRequest: get(srv.URL), Want: &Hash{"sha256", sha256Hex(payload)}})
	if err != nil || f.Size != int64(len(payload)) {
		t.Fatalf("f=%+v err=%v", f, err)
	}
}

func TestDownloadCutChunkedBodyIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 10000))
		w.(http.Flusher).Flush() // chunked: no Content-Length
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	spool := t.TempDir()
	r := New(Options{Server: "s", SpoolDir: spool})
	f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL)})
	if err == nil || f != nil || len(spoolEntries(t, spool)) != 0 {
		t.Fatalf("f=%+v err=%v", f, err)
	}
}

func TestDownloadServerIgnoringRangeRestarts(t *testing.T) {
	payload := randBytes(t, 1<<20)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Advertises ranges, then ignores them: the runner must start over, not append.
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		if n.Add(1) == 1 {
			w.Write(payload[:len(payload)/2])
			w.(http.Flusher).Flush()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.Write(payload)
	}))
	defer srv.Close()
	r := New(Options{Server: "s", SpoolDir: t.TempDir()})
	var ps []Progress
	f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL),
		Want: &Hash{"sha256", sha256Hex(payload)}, Progress: func(p Progress) { ps = append(ps, p) }})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f.Path)
	if !bytes.Equal(got, payload) || n.Load() != 2 {
		t.Fatalf("bytes ok=%v requests=%d", bytes.Equal(got, payload), n.Load())
	}
	checkProgress(t, ps, int64(len(payload)))
}

// A payload that stalls (headers and a first part, then almost nothing) is aborted by the
// client's throughput watchdog, not held forever, and resumed from where it stopped.
func TestDownloadStallAbortedAndResumed(t *testing.T) {
	payload := randBytes(t, 100000)
	var ranges []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		w.Header().Set("Accept-Ranges", "bytes")
		if first {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.Write(payload[:30000])
			w.(http.Flusher).Flush()
			for i := 30000; i < len(payload); i++ { // then a byte every 50 ms
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
				w.Write(payload[i : i+1])
				w.(http.Flusher).Flush()
			}
			return
		}
		http.ServeContent(w, r, "p", time.Time{}, bytes.NewReader(payload))
	}))
	defer srv.Close()
	c, err := httpclient.New(httpclient.Options{Server: "s", Proxy: "none", RequestTimeout: time.Second, MinRate: 1000, StallWindow: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{Server: "s", SpoolDir: t.TempDir()})
	start := time.Now()
	f, err := r.Download(context.Background(), Download{Client: c, NewRequest: get(srv.URL), Want: &Hash{"sha256", sha256Hex(payload)}})
	if err != nil || f.Size != int64(len(payload)) {
		t.Fatalf("f=%+v err=%v", f, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ranges) != 2 || !strings.HasPrefix(ranges[1], "bytes=3") {
		t.Fatalf("requests with Range %q: want one resume after the stall", ranges)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
}

type recWatcher struct {
	mu     sync.Mutex
	starts []string
	last   Progress
	done   []error
	n      int
}

func (w *recWatcher) Start(server, name string) ProgressTracker {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.starts = append(w.starts, server+"/"+name)
	return w
}
func (w *recWatcher) Update(p Progress) { w.mu.Lock(); w.last, w.n = p, w.n+1; w.mu.Unlock() }
func (w *recWatcher) Done(err error)    { w.mu.Lock(); w.done = append(w.done, err); w.mu.Unlock() }

// TestDownloadWatcher: the runner's watcher sees every download (the CLI's bars and progress
// log) without the adapter doing anything, and its end, failed or not.
func TestDownloadWatcher(t *testing.T) {
	payload := randBytes(t, 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "p.bin", time.Time{}, bytes.NewReader(payload))
	}))
	defer srv.Close()
	w := &recWatcher{}
	r := New(Options{Server: "srv", SpoolDir: t.TempDir(), Watch: w})
	f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL + "/p"), Name: "pkg.zip", Want: &Hash{"sha256", sha256Hex(payload)}})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Path)
	if _, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL + "/missing"), Name: "gone.bin"}); err == nil {
		t.Fatal("404 downloaded")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Join(w.starts, ",") != "srv/pkg.zip,srv/gone.bin" || len(w.done) != 2 || w.done[0] != nil || w.done[1] == nil {
		t.Fatalf("starts %v done %v", w.starts, w.done)
	}
	if w.n == 0 || w.last.Percent != 100 || w.last.Bytes != int64(len(payload)) {
		t.Errorf("last progress %+v after %d updates", w.last, w.n)
	}
}
