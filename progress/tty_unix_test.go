//go:build linux || darwin

package progress

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creack/pty"
)

// TestIsTerminal: a pty is a terminal with its window's width; a file, a pipe and /dev/null
// (a character device that is no terminal) are not.
func TestIsTerminal(t *testing.T) {
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty on this machine: %v", err)
	}
	defer ptm.Close()
	defer tty.Close()
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 30, Cols: 123}); err != nil {
		t.Fatal(err)
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tc := range []struct {
		name  string
		f     *os.File
		tty   bool
		width int
	}{
		{"pty", tty, true, 123},
		{"file", file, false, 0},
		{"pipe", w, false, 0},
		{"/dev/null", null, false, 0},
	} {
		if ok, width := IsTerminal(tc.f); ok != tc.tty || width != tc.width {
			t.Errorf("%s: IsTerminal = %v, %d; want %v, %d", tc.name, ok, width, tc.tty, tc.width)
		}
	}
}
