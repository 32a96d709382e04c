package rdfm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
)

func TestFileDownload(t *testing.T) {
	allowed := t.TempDir()
	secret := t.TempDir()
	data := bytes.Repeat([]byte("log line\n"), 50000)
	good := filepath.Join(allowed, "app.log")
	bad := filepath.Join(secret, "shadow")
	os.WriteFile(good, data, 0o600)
	os.WriteFile(bad, []byte("secret"), 0o600)
	if runtime.GOOS != "windows" {
		os.Symlink(bad, filepath.Join(allowed, "link")) // escapes the allowed folder
	}
	e := newEnv(t)
	e.opts.FSAllowedPaths = []string{allowed}
	_, ctx, caps := e.serving()
	if caps["filesystem"] != true {
		t.Fatalf("capabilities = %v", caps)
	}

	for _, f := range []string{bad, filepath.Join(allowed, "link"), filepath.Join(allowed, "..", filepath.Base(secret), "shadow"), "relative", filepath.Join(allowed, "missing")} {
		if _, err := e.fake.ProbeFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		if r := next(t, e.fake, "fs_file_probe_reply"); r["status"] != 1.0 || r["size"] != 0.0 {
			t.Fatalf("probe %s = %v, want refusal", f, r)
		}
	}
	if _, err := e.fake.ProbeFile(ctx, good); err != nil {
		t.Fatal(err)
	}
	r := next(t, e.fake, "fs_file_probe_reply")
	if r["status"] != 0.0 || r["size"] != float64(len(data)) {
		t.Fatalf("probe = %v", r)
	}
	if _, err := e.fake.DownloadFile(ctx, good, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got, err := e.fake.Assembled(next(t, e.fake, "fs_file_download_reply"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %v (%d bytes)", err, len(got))
	}
	// A refused download still answers, with an empty list (never null).
	if _, err := e.fake.DownloadFile(ctx, bad, 6); err != nil {
		t.Fatal(err)
	}
	r = next(t, e.fake, "fs_file_download_reply")
	if l, ok := r["etags"].([]any); r["status"] != 1.0 || !ok || len(l) != 0 {
		t.Fatalf("refused download reply = %v", r)
	}
}

func TestPartPlan(t *testing.T) {
	const mib = 1 << 20
	tests := []struct{ size, parts, partSize int64 }{
		{1, 1, 1},
		{5 * mib, 1, 5 * mib},
		{10 * mib, 1, 10 * mib},
		{10*mib + 1, 2, 10 * mib},
		{25 * mib, 3, 10 * mib},
		{200 << 30, 10000, (200<<30 + 9999) / 10000},
	}
	for _, tt := range tests {
		n, ps := rdfmfake.PartPlan(tt.size)
		if n != tt.parts || ps != tt.partSize {
			t.Errorf("PartPlan(%d) = %d×%d, want %d×%d", tt.size, n, ps, tt.parts, tt.partSize)
		}
	}
}

// At most four file downloads run at once; a fifth is refused at once, and answered.
func TestFileDownloadsBounded(t *testing.T) {
	allowed := t.TempDir()
	good := filepath.Join(allowed, "app.log")
	if err := os.WriteFile(good, []byte("log line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.opts.FSAllowedPaths = []string{allowed}
	e.fake.HoldUploads = make(chan struct{})
	_, ctx, _ := e.serving()
	for range 5 {
		if _, err := e.fake.DownloadFile(ctx, good, 9); err != nil {
			t.Fatal(err)
		}
	}
	if r := next(t, e.fake, "fs_file_download_reply"); r["status"] != 1.0 {
		t.Fatalf("fifth download = %v, want an immediate refusal", r)
	}
	close(e.fake.HoldUploads)
	for i := range 4 {
		if r := next(t, e.fake, "fs_file_download_reply"); r["status"] != 0.0 {
			t.Fatalf("download %d = %v, want success", i, r)
		}
	}
}
