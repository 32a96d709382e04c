package jobs

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type entry struct {
	name, body, link string
	typ              byte // tar type; for zip: '2' symlink, '5' dir, else file
	mode             int64
}

func writeTar(t *testing.T, path string, gz bool, es []entry) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	data := b.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeZip(t *testing.T, path string, es []entry) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case '2':
			h.SetMode(fs.ModeSymlink | 0o777)
		case '5':
			h.SetMode(fs.ModeDir | 0o755)
		default:
			m := fs.FileMode(e.mode)
			if m == 0 {
				m = 0o644
			}
			h.SetMode(m)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if e.typ == '2' {
			w.Write([]byte(e.link))
		} else {
			w.Write([]byte(e.body))
		}
	}
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUnpackGood(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the archive holds a symlink: creating one needs a privilege on Windows")
	}
	es := []entry{
		{name: "dir/", typ: '5'},
		{name: "dir/a.txt", body: "alpha"},
		{name: "run.sh", body: "#!/bin/sh\necho hi\n", mode: 0o755},
		{name: "deep/er/b.txt", body: "beta"},
		{name: "dir/link", link: "../run.sh", typ: '2'},
		{name: "./c.txt", body: "gamma"},
	}
	for _, kind := range []string{"zip", "tar", "tar.gz"} {
		t.Run(kind, func(t *testing.T) {
			tmp := t.TempDir()
			arc := filepath.Join(tmp, "a.bin") // the name says nothing: content decides
			tes := make([]entry, len(es))
			copy(tes, es)
			switch kind {
			case "zip":
				writeZip(t, arc, tes)
			default:
				for i := range tes {
					switch tes[i].typ {
					case '5':
						tes[i].typ = tar.TypeDir
					case '2':
						tes[i].typ = tar.TypeSymlink
					}
				}
				writeTar(t, arc, kind == "tar.gz", tes)
			}
			r := New(Options{Server: "s", SpoolDir: filepath.Join(tmp, "spool")})
			dir, err := r.Unpack(context.Background(), arc, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"dir/a.txt": "alpha", "deep/er/b.txt": "beta", "c.txt": "gamma", "dir/link": "#!/bin/sh\necho hi\n"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || string(b) != want {
					t.Errorf("%s: %q %v", name, b, err)
				}
			}
			if runtime.GOOS != "windows" {
				st, err := os.Stat(filepath.Join(dir, "run.sh"))
				if err != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("mode of run.sh: %v %v", st.Mode(), err)
				}
			}
		})
	}
}

func TestUnpackRefusesAttacks(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
		es   []entry
		want string
	}{
		{"tar traversal", "tar", []entry{{name: "ok.txt", body: "x"}, {name: "../../evil.txt", body: "pwned"}}, `".."`},
		{"zip traversal", "zip", []entry{{name: "a/../../evil.txt", body: "pwned"}}, `".."`},
		{"zip backslash traversal", "zip", []entry{{name: "..\\evil.txt", body: "pwned"}}, `".."`},
		{"tar absolute", "tar.gz", []entry{{name: "/tmp/omniagent-evil.txt", body: "pwned"}}, "absolute"},
		{"zip absolute", "zip", []entry{{name: "/tmp/omniagent-evil.txt", body: "pwned"}}, "absolute"},
		{"zip drive", "zip", []entry{{name: "C:/evil.txt", body: "pwned"}}, "absolute"},
		{"tar symlink out", "tar", []entry{{name: "l", link: "../../outside", typ: tar.TypeSymlink}}, "points outside"},
		{"tar symlink absolute", "tar", []entry{{name: "l", link: "/etc", typ: tar.TypeSymlink}}, "points outside"},
		{"zip symlink out", "zip", []entry{{name: "d/l", link: "../..", typ: '2'}}, "points outside"},
		{"tar hard link", "tar", []entry{{name: "ok", body: "x"}, {name: "h", link: "ok", typ: tar.TypeLink}}, "hard link"},
		{"tar hard link out", "tar", []entry{{name: "h", link: "/etc/passwd", typ: tar.TypeLink}}, "hard link"},
		{"tar device", "tar", []entry{{name: "dev", typ: tar.TypeChar}}, "unsupported"},
		{"tar duplicate overwrite", "tar", []entry{{name: "a", body: "1"}, {name: "a", body: "2"}}, "exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			arc := filepath.Join(tmp, "a")
			if tc.kind == "zip" {
				writeZip(t, arc, tc.es)
			} else {
				writeTar(t, arc, tc.kind == "tar.gz", tc.es)
			}
			spool := filepath.Join(tmp, "spool")
			r := New(Options{Server: "s", SpoolDir: spool})
			dir, err := r.Unpack(context.Background(), arc, Limits{})
			if err == nil || dir != "" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("dir=%q err=%v", dir, err)
			}
			assertNothingOutside(t, tmp, spool)
		})
	}
	if _, err := os.Stat("/tmp/omniagent-evil.txt"); err == nil {
		t.Fatal("absolute entry written")
	}
}

// assertNothingOutside checks that tmp holds only the archive and an empty spool.
func assertNothingOutside(t *testing.T, tmp, spool string) {
	t.Helper()
	filepath.WalkDir(filepath.Dir(tmp), func(p string, d fs.DirEntry, err error) error {
		if err == nil && (d.Name() == "evil.txt" || d.Name() == "outside") {
			t.Errorf("written outside staging: %s", p)
		}
		return nil
	})
	if left := spoolEntries(t, spool); len(left) != 0 {
		t.Errorf("staging not cleaned: %v", left)
	}
}

func TestUnpackSymlinkThenWriteThrough(t *testing.T) {
	// An inside-pointing link to "." is fine, but a link that escapes cannot be used later
	// even if a check were missed: os.Root refuses it. Here the link is refused at once.
	tmp := t.TempDir()
	arc := filepath.Join(tmp, "a")
	writeTar(t, arc, false, []entry{
		{name: "esc", link: "..", typ: tar.TypeSymlink},
		{name: "esc/evil.txt", body: "pwned"},
	})
	spool := filepath.Join(tmp, "spool")
	_, err := New(Options{SpoolDir: spool}).Unpack(context.Background(), arc, Limits{})
	if !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("err=%v", err)
	}
	assertNothingOutside(t, tmp, spool)
}

func TestUnpackBombs(t *testing.T) {
	big := strings.Repeat("\x00", 8<<20) // compresses to a few KiB
	for _, tc := range []struct {
		name string
		kind string
		es   []entry
		lim  Limits
		want string
	}{
		{"zip bomb", "zip", []entry{{name: "zeros", body: big}}, Limits{MaxBytes: 1 << 20}, "uncompressed"},
		{"tar.gz bomb", "tar.gz", []entry{{name: "zeros", body: big}}, Limits{MaxBytes: 1 << 20}, "uncompressed"},
		{"zip entries", "zip", []entry{{name: "a"}, {name: "b"}, {name: "c"}}, Limits{MaxEntries: 2}, "entries"},
		{"tar entries", "tar", []entry{{name: "a"}, {name: "b"}, {name: "c"}}, Limits{MaxEntries: 2}, "entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			arc := filepath.Join(tmp, "a")
			if tc.kind == "zip" {
				writeZip(t, arc, tc.es)
			} else {
				writeTar(t, arc, tc.kind == "tar.gz", tc.es)
			}
			spool := filepath.Join(tmp, "spool")
			_, err := New(Options{SpoolDir: spool}).Unpack(context.Background(), arc, tc.lim)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err=%v", err)
			}
			assertNothingOutside(t, tmp, spool)
		})
	}
}

func TestUnpackNotAnArchive(t *testing.T) {
	tmp := t.TempDir()
	arc := filepath.Join(tmp, "a")
	os.WriteFile(arc, []byte("just text"), 0o600)
	if _, err := New(Options{SpoolDir: tmp}).Unpack(context.Background(), arc, Limits{}); err == nil || !strings.Contains(err.Error(), "not a zip") {
		t.Fatalf("err=%v", err)
	}
}
