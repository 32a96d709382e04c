package jobs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// BenchmarkCaptureWrite: the cost of the head+tail output cap per 32 KiB chunk.
func BenchmarkCaptureWrite(b *testing.B) {
	chunk := bytes.Repeat([]byte("output line\n"), 32<<10/12)
	c := newCapture(1 << 20)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		c.Write(chunk)
	}
}

// BenchmarkDownloadVerify: a 16 MiB loopback download into the spool with its SHA-256 check
// (the 1 GiB comparison against sha256sum is bench/rows/jobs.sh).
func BenchmarkDownloadVerify(b *testing.B) {
	payload := randBytes(b, 16<<20)
	want := sha256Hex(payload)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "p", time.Time{}, bytes.NewReader(payload))
	}))
	defer srv.Close()
	r := New(Options{Server: "bench", SpoolDir: b.TempDir()})
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		f, err := r.Download(context.Background(), Download{Client: srv.Client(), NewRequest: get(srv.URL), Want: &Hash{"sha256", want}})
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(f.Path)
	}
}
