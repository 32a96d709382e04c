package limitread

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		limit   int64
		want    int
		tooBig  bool
		missing bool
	}{
		{"under the limit", path, 101, 100, false, false},
		{"at the limit", path, 100, 100, false, false},
		{"over the limit", path, 99, 0, true, false},
		{"missing", filepath.Join(dir, "none"), 100, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := File(tc.path, tc.limit)
			var tl *TooLargeError
			if got := errors.As(err, &tl); got != tc.tooBig {
				t.Fatalf("err = %v, too large = %v, want %v", err, got, tc.tooBig)
			}
			if tc.tooBig && (b != nil || tl.Path != tc.path || err.Error() != tc.path+": larger than 99 bytes") {
				t.Errorf("refusal %q with %d bytes of content", err, len(b))
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.missing {
				t.Errorf("err = %v, not exist = %v, want %v", err, got, tc.missing)
			}
			if len(b) != tc.want {
				t.Errorf("read %d bytes, want %d", len(b), tc.want)
			}
		})
	}
}
