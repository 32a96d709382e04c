package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"  //nolint:gosec // test vectors for the md5 filter
	"crypto/sha1" //nolint:gosec // test vectors for the sha1 filter
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

var (
	fixedNow   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	fixedMtime = time.Date(2026, 11, 22, 9, 21, 22, 31067902, time.UTC)
)

// tfile is a file of a test tree, relative to its root.
type tfile struct {
	path    string
	content string
	mode    os.FileMode
	age     time.Duration // before fixedNow; 0 = fixedMtime
}

func mkTree(t *testing.T, files []tfile) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
		mt := fixedMtime
		if f.age != 0 {
			mt = fixedNow.Add(-f.age)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// standard tree used by the filter table.
func stdTree(t *testing.T) string {
	return mkTree(t, []tfile{
		{path: "passwd", content: "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n"},
		{path: "group", content: "root:x:0:\nwheel:x:10:alice\n"},
		{path: "run.sh", content: "#!/bin/sh\necho hi\n", mode: 0o755},
		{path: "big.bin", content: strings.Repeat("x", 2048)},
		{path: "old.log", content: "old\n", age: 30 * 24 * time.Hour},
		{path: "new.log", content: "new\n", age: 10 * time.Minute},
		{path: "empty", content: ""},
		{path: "sub/passwd", content: "nobody:x:65534:65534::/:/usr/sbin/nologin\n"},
		{path: "sub/deep/passwd", content: "deep:x:1:1::/:/bin/false\n"},
	})
}

func runModule(t *testing.T, params string) (modules.Result, []byte) {
	t.Helper()
	res, err := Module{Now: func() time.Time { return fixedNow }}.Run(context.Background(), json.RawMessage(params))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("marshal result: %v", err)
	}
	return res, b
}

// decoded result, strict like MIG's client.
type dResult struct {
	FoundAnything bool                  `json:"foundanything"`
	Success       bool                  `json:"success"`
	Elements      map[string][]dMatched `json:"elements"`
	Statistics    Statistics            `json:"statistics"`
	Errors        []string              `json:"errors"`
}

type dMatched struct {
	File     string   `json:"file"`
	Search   Search   `json:"search"`
	FileInfo FileInfo `json:"fileinfo"`
}

func decode(t *testing.T, b []byte) dResult {
	t.Helper()
	var r dResult
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return r
}

// hitNames lists the label's non-placeholder files relative to root, sorted.
func hitNames(root string, ms []dMatched) []string {
	out := []string{}
	for _, m := range ms {
		if m.File == "" {
			continue
		}
		rel, err := filepath.Rel(root, m.File)
		if err != nil {
			rel = m.File
		}
		out = append(out, filepath.ToSlash(rel))
	}
	sort.Strings(out)
	return out
}

func params(t *testing.T, searches map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"searches": searches})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sum(h interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}, s string) string {
	_, _ = h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestFilters(t *testing.T) {
	root := stdTree(t)
	pw := "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n"
	all := []string{"big.bin", "empty", "group", "new.log", "old.log", "passwd", "run.sh", "sub/deep/passwd", "sub/passwd"}
	tests := []struct {
		name   string
		search map[string]any
		want   []string
	}{
		{"name", map[string]any{"names": []string{"^passwd$"}}, []string{"passwd", "sub/deep/passwd", "sub/passwd"}},
		{"name inverted", map[string]any{"names": []string{"!passwd|log|bin|sh|empty"}}, []string{"group"}},
		{"name mismatch", map[string]any{"names": []string{"^passwd$"}, "options": map[string]any{"mismatch": []string{"name"}}},
			[]string{"big.bin", "empty", "group", "new.log", "old.log", "run.sh"}},
		{"name inverted and mismatch", map[string]any{"names": []string{"!^passwd$"}, "options": map[string]any{"mismatch": []string{"name"}}},
			[]string{"passwd", "sub/deep/passwd", "sub/passwd"}},
		{"lone bang is a regex", map[string]any{"names": []string{"!"}}, []string{}},
		{"content", map[string]any{"contents": []string{"^alice:"}}, []string{"passwd"}},
		{"content inverted", map[string]any{"names": []string{"passwd"}, "contents": []string{"!^root:"}}, []string{"sub/deep/passwd", "sub/passwd"}},
		{"content mismatch", map[string]any{"names": []string{"passwd"}, "contents": []string{"^root:"}, "options": map[string]any{"mismatch": []string{"content"}}},
			[]string{"sub/deep/passwd", "sub/passwd"}},
		{"content macroal", map[string]any{"contents": []string{":x:", "^[a-z]+:"}, "options": map[string]any{"macroal": true}},
			[]string{"group", "passwd", "sub/deep/passwd", "sub/passwd"}},
		{"content macroal with inverse", map[string]any{"contents": []string{":x:", "!alice"}, "options": map[string]any{"macroal": true}},
			[]string{"sub/deep/passwd", "sub/passwd"}},
		{"size exact", map[string]any{"sizes": []string{"2k"}}, []string{"big.bin"}},
		{"size below inclusive", map[string]any{"sizes": []string{"<4"}}, []string{"empty", "new.log", "old.log"}},
		{"size above inclusive", map[string]any{"sizes": []string{">2048"}}, []string{"big.bin"}},
		{"size mismatch", map[string]any{"sizes": []string{">10"}, "options": map[string]any{"mismatch": []string{"size"}}}, []string{"empty", "new.log", "old.log"}},
		{"mode", map[string]any{"modes": []string{"^-rwxr-xr-x$"}}, []string{"run.sh"}},
		{"mode mismatch", map[string]any{"modes": []string{"r--r--$"}, "options": map[string]any{"mismatch": []string{"mode"}}}, []string{"run.sh"}},
		{"mtime within", map[string]any{"mtimes": []string{"<1h"}}, []string{"new.log"}},
		{"mtime older", map[string]any{"mtimes": []string{">7d"}}, []string{"old.log"}},
		{"mtime minutes", map[string]any{"mtimes": []string{"<11m"}}, []string{"new.log"}},
		{"mtime mismatch", map[string]any{"mtimes": []string{">7d"}, "options": map[string]any{"mismatch": []string{"mtime"}}},
			[]string{"big.bin", "empty", "group", "new.log", "passwd", "run.sh", "sub/deep/passwd", "sub/passwd"}},
		{"md5", map[string]any{"md5": []string{sum(md5.New(), pw)}}, []string{"passwd"}},                             //nolint:gosec
		{"md5 upper case", map[string]any{"md5": []string{strings.ToUpper(sum(md5.New(), pw))}}, []string{"passwd"}}, //nolint:gosec
		{"sha1", map[string]any{"sha1": []string{sum(sha1.New(), pw)}}, []string{"passwd"}},                          //nolint:gosec
		{"sha256", map[string]any{"sha2": []string{sum(sha256.New(), pw)}}, []string{"passwd"}},
		{"sha384", map[string]any{"sha2": []string{sum(sha512.New384(), pw)}}, []string{"passwd"}},
		{"sha512", map[string]any{"sha2": []string{sum(sha512.New(), pw)}}, []string{"passwd"}},
		{"sha3-224", map[string]any{"sha3": []string{sum(sha3.New224(), pw)}}, []string{"passwd"}},
		{"sha3-256", map[string]any{"sha3": []string{sum(sha3.New256(), pw)}}, []string{"passwd"}},
		{"sha3-384", map[string]any{"sha3": []string{sum(sha3.New384(), pw)}}, []string{"passwd"}},
		{"sha3-512", map[string]any{"sha3": []string{sum(sha3.New512(), pw)}}, []string{"passwd"}},
		{"sha2 mismatch", map[string]any{"names": []string{"passwd"}, "sha2": []string{sum(sha256.New(), pw)}, "options": map[string]any{"mismatch": []string{"sha2"}}},
			[]string{"sub/deep/passwd", "sub/passwd"}},
		{"every filter at once", map[string]any{"names": []string{"^passwd$"}, "contents": []string{"alice"}, "sizes": []string{"<1k"},
			"modes": []string{"^-rw"}, "mtimes": []string{"<1d"}, "md5": []string{sum(md5.New(), pw)}, "sha1": []string{sum(sha1.New(), pw)}, //nolint:gosec
			"sha2": []string{sum(sha256.New(), pw)}, "sha3": []string{sum(sha3.New256(), pw)}}, []string{"passwd"}},
		{"two names must both match", map[string]any{"names": []string{"^pass", "wd$"}}, []string{"passwd", "sub/deep/passwd", "sub/passwd"}},
		{"conflicting filters", map[string]any{"names": []string{"^passwd$"}, "sizes": []string{"2k"}}, []string{}},
		{"no filter matches nothing", map[string]any{}, []string{}},
		{"everything", map[string]any{"names": []string{"."}}, all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := map[string]any{"paths": []string{root}}
			for k, v := range tc.search {
				s[k] = v
			}
			opts := map[string]any{"matchall": true}
			if o, ok := s["options"].(map[string]any); ok {
				for k, v := range o {
					opts[k] = v
				}
			}
			s["options"] = opts
			res, b := runModule(t, params(t, map[string]any{"s1": s}))
			if !res.Success {
				t.Fatalf("module failed: %s", b)
			}
			d := decode(t, b)
			got := hitNames(root, d.Elements["s1"])
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("hits = %v, want %v\n%s", got, tc.want, b)
			}
			if d.FoundAnything != (len(tc.want) > 0) || int(d.Statistics.Totalhits) != len(tc.want) {
				t.Fatalf("foundanything %v totalhits %v for %d hits", d.FoundAnything, d.Statistics.Totalhits, len(tc.want))
			}
			if len(tc.want) == 0 && (len(d.Elements["s1"]) != 1 || d.Elements["s1"][0].File != "") {
				t.Fatalf("no hit must give one placeholder: %s", b)
			}
			if d.Statistics.Filescount != float64(len(all)) {
				t.Fatalf("filescount = %v, want %d", d.Statistics.Filescount, len(all))
			}
		})
	}
}

func TestEmptyFileNeverPassesMacroal(t *testing.T) {
	root := mkTree(t, []tfile{{path: "empty"}, {path: "full", content: "a\n"}})
	_, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "contents": []string{"."},
		"options": map[string]any{"matchall": true, "macroal": true}}}))
	if got := hitNames(root, decode(t, b).Elements["s"]); strings.Join(got, ",") != "full" {
		t.Fatalf("hits %v", got)
	}
}

func TestGoldenMatchAll(t *testing.T) {
	root := mkTree(t, []tfile{
		{path: "passwd", content: "root:x:0:0\n"},
		{path: "group", content: "root:x:0:\n"},
	})
	p := fmt.Sprintf(`{"searches":{"s1":{"names":["^passwd$"],"options":{"macroal":false,"matchall":true,"matchlimit":1000,"maxdepth":1,"maxerrors":30,"mismatch":null},"paths":[%q]},`+
		`"none":{"description":"nothing <here>","paths":[%q],"sha2":["%s"],"options":{"matchall":true,"returnsha256":true,"decompress":true,"mismatch":[]}},`+
		`"withsum":{"paths":[%q],"names":["group"],"options":{"matchall":true,"returnsha256":true}}}}`,
		root+"/", root, strings.Repeat("ab", 32), root)
	res, b := runModule(t, p)
	if !res.Success {
		t.Fatalf("failed: %s", b)
	}
	gsum := strings.ToUpper(sum(sha256.New(), "root:x:0:\n"))
	want := `{"foundanything":true,"success":true,"elements":{` +
		`"none":[{"file":"","fileinfo":{"lastmodified":"","mode":"","size":0},"search":{"description":"nothing \u003chere\u003e","options":{"decompress":true,"macroal":false,"matchall":true,"matchlimit":0,"maxdepth":0,"maxerrors":0,"mismatch":[],"returnsha256":true},"paths":["ROOT"],"sha2":["` + strings.Repeat("ab", 32) + `"]}}],` +
		`"s1":[{"file":"ROOT/passwd","fileinfo":{"lastmodified":"2026-11-22 09:21:22.031067902 +0000 UTC","mode":"-rw-r--r--","size":11},"search":{"names":["^passwd$"],"options":{"macroal":false,"matchall":true,"matchlimit":0,"maxdepth":0,"maxerrors":0,"mismatch":null},"paths":["ROOT"]}}],` +
		`"withsum":[{"file":"ROOT/group","fileinfo":{"lastmodified":"2026-11-22 09:21:22.031067902 +0000 UTC","mode":"-rw-r--r--","sha256":"` + gsum + `","size":10},"search":{"names":["group"],"options":{"macroal":false,"matchall":true,"matchlimit":0,"maxdepth":0,"maxerrors":0,"mismatch":null,"returnsha256":true},"paths":["ROOT"]}}]},` +
		`"statistics":{"exectime":"X","filescount":2,"openfailed":0,"totalhits":2},"errors":null}`
	got := regexp.MustCompile(`"exectime":"[^"]*"`).ReplaceAllString(string(b), `"exectime":"X"`)
	rootJSON, _ := json.Marshal(root)
	got = strings.ReplaceAll(got, strings.Trim(string(rootJSON), `"`), "ROOT")
	if got != want {
		t.Fatalf("result\n got %s\nwant %s", got, want)
	}
	decode(t, b) // strict typed decode, as MIG's client does
}

func TestGoldenMatchAny(t *testing.T) {
	root := mkTree(t, []tfile{
		{path: "a/passwd", content: "root:x:0:0\n"},
		{path: "b/shadow", content: "root:!:0:0\n"},
	})
	md := strings.ToUpper(sum(md5.New(), "root:x:0:0\n")) //nolint:gosec
	p := params(t, map[string]any{"s1": map[string]any{
		"paths": []string{root}, "names": []string{"^passwd$", "!^passwd$"}, "contents": []string{"^root:!"}, "sizes": []string{"99"},
		"md5":     []string{strings.ToLower(md)},
		"options": map[string]any{"matchall": false, "maxdepth": 3, "matchlimit": 10, "maxerrors": 5},
	}})
	_, b := runModule(t, p)
	got := regexp.MustCompile(`"exectime":"[^"]*"`).ReplaceAllString(string(b), `"exectime":"X"`)
	got = strings.ReplaceAll(got, root, "ROOT")
	zero := `"options":{"macroal":false,"matchall":false,"matchlimit":0,"maxdepth":0,"maxerrors":0,"mismatch":null}`
	fi := func(size int) string {
		return fmt.Sprintf(`"fileinfo":{"lastmodified":"2026-11-22 09:21:22.031067902 +0000 UTC","mode":"-rw-r--r--","size":%d}`, size)
	}
	want := `{"foundanything":true,"success":true,"elements":{"s1":[` +
		`{"file":"ROOT/b/shadow",` + fi(11) + `,"search":{"contents":["^root:!"],` + zero + `,"paths":["ROOT/b"]}},` +
		`{"file":"ROOT/a/passwd",` + fi(11) + `,"search":{"names":["^passwd$"],` + zero + `,"paths":["ROOT/a"]}},` +
		`{"file":"ROOT/b/shadow",` + fi(11) + `,"search":{"names":["!^passwd$"],` + zero + `,"paths":["ROOT/b"]}},` +
		`{"file":"","fileinfo":{"lastmodified":"","mode":"","size":0},"search":{` + zero + `,"paths":["ROOT"],"sizes":["99"]}},` +
		`{"file":"ROOT/a/passwd",` + fi(11) + `,"search":{"md5":["` + md + `"],` + zero + `,"paths":["ROOT/a"]}}` +
		`]},"statistics":{"exectime":"X","filescount":2,"openfailed":0,"totalhits":4},"errors":null}`
	if got != want {
		t.Fatalf("result\n got %s\nwant %s", got, want)
	}
}

func TestMatchAnyWithoutFiltersIsNull(t *testing.T) {
	root := mkTree(t, []tfile{{path: "f", content: "x"}})
	_, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}}}))
	if !strings.Contains(string(b), `"elements":{"s":null}`) {
		t.Fatalf("want null elements: %s", b)
	}
}

func TestMaxDepth(t *testing.T) {
	root := stdTree(t)
	for _, tc := range []struct {
		depth int
		want  string
	}{
		{0, "passwd,sub/deep/passwd,sub/passwd"},
		{1, "passwd"},
		{2, "passwd,sub/passwd"},
		{3, "passwd,sub/deep/passwd,sub/passwd"},
	} {
		t.Run(fmt.Sprint(tc.depth), func(t *testing.T) {
			_, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "names": []string{"^passwd$"},
				"options": map[string]any{"matchall": true, "maxdepth": tc.depth}}}))
			if got := strings.Join(hitNames(root, decode(t, b).Elements["s"]), ","); got != tc.want {
				t.Fatalf("maxdepth %d: %s, want %s", tc.depth, got, tc.want)
			}
		})
	}
}

func TestMatchLimit(t *testing.T) {
	var files []tfile
	for i := range 20 {
		files = append(files, tfile{path: fmt.Sprintf("d%d/f%02d", i%3, i), content: "x"})
	}
	root := mkTree(t, files)
	for _, limit := range []int{1, 5, 0} {
		_, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "names": []string{"^f"},
			"options": map[string]any{"matchall": true, "matchlimit": limit}}}))
		d := decode(t, b)
		want := limit
		if limit == 0 {
			want = 20
		}
		if n := len(hitNames(root, d.Elements["s"])); n != want || d.Statistics.Totalhits != float64(want) {
			t.Fatalf("matchlimit %d: %d hits (totalhits %v)", limit, n, d.Statistics.Totalhits)
		}
	}
	// The limit is global: a second search stops once the first filled it.
	_, b := runModule(t, params(t, map[string]any{
		"a": map[string]any{"paths": []string{root}, "names": []string{"^f"}, "options": map[string]any{"matchall": true, "matchlimit": 3}},
		"b": map[string]any{"paths": []string{root}, "names": []string{"^f"}, "options": map[string]any{"matchall": true, "matchlimit": 3}},
	}))
	if d := decode(t, b); d.Statistics.Totalhits != 3 {
		t.Fatalf("global limit: totalhits %v", d.Statistics.Totalhits)
	}
}

func TestSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	outside := mkTree(t, []tfile{{path: "target.conf", content: "secret=1\n"}, {path: "dir/inner.conf", content: "secret=2\n"}})
	root := mkTree(t, []tfile{{path: "plain.conf", content: "secret=0\n"}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "target.conf"), filepath.Join(root, "link.conf")))
	must(os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "linkdir")))
	must(os.Symlink(filepath.Join(outside, "missing"), filepath.Join(root, "broken.conf")))
	res, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "contents": []string{"^secret="},
		"options": map[string]any{"matchall": true}}}))
	d := decode(t, b)
	if got := strings.Join(hitNames(root, d.Elements["s"]), ","); got != "link.conf,plain.conf" {
		t.Fatalf("hits %s (file link followed and reported under its path, dir link not followed)", got)
	}
	if !res.Success || d.Statistics.Openfailed != 1 || len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "ERROR: ") ||
		!strings.Contains(d.Errors[0], "broken.conf") {
		t.Fatalf("broken link must be one open failure: %s", b)
	}
	for _, m := range d.Elements["s"] {
		if strings.HasSuffix(m.File, "link.conf") && (m.FileInfo.Mode != "-rw-r--r--" || m.FileInfo.Size != 9) {
			t.Fatalf("link must report its target's info: %+v", m.FileInfo)
		}
	}
	// A root that is a directory symlink is followed (documented deviation).
	_, b = runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{filepath.Join(root, "linkdir")},
		"names": []string{"inner"}, "options": map[string]any{"matchall": true}}}))
	if got := hitNames(root, decode(t, b).Elements["s"]); strings.Join(got, ",") != "linkdir/inner.conf" {
		t.Fatalf("root dir symlink: %v", got)
	}
}

func gz(t *testing.T, s string) string {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestDecompress(t *testing.T) {
	plain := "Nov 22 sshd[1]: Accepted publickey for alice\n"
	root := mkTree(t, []tfile{
		{path: "auth.log.1.gz", content: gz(t, plain)},
		{path: "auth.log", content: "Nov 23 sshd[2]: Accepted publickey for bob\n"},
		{path: "short", content: "\x1f"},
	})
	for _, tc := range []struct {
		decompress bool
		search     map[string]any
		want       string
	}{
		{false, map[string]any{"contents": []string{"Accepted publickey"}}, "auth.log"},
		{true, map[string]any{"contents": []string{"Accepted publickey"}}, "auth.log,auth.log.1.gz"},
		{true, map[string]any{"contents": []string{"for alice"}}, "auth.log.1.gz"},
		{true, map[string]any{"md5": []string{sum(md5.New(), plain)}}, "auth.log.1.gz"}, //nolint:gosec
		{false, map[string]any{"md5": []string{sum(md5.New(), plain)}}, ""},             //nolint:gosec
	} {
		s := map[string]any{"paths": []string{root}, "options": map[string]any{"matchall": true, "decompress": tc.decompress}}
		for k, v := range tc.search {
			s[k] = v
		}
		res, b := runModule(t, params(t, map[string]any{"s": s}))
		if got := strings.Join(hitNames(root, decode(t, b).Elements["s"]), ","); got != tc.want || !res.Success {
			t.Fatalf("decompress=%v %v: %s, want %s\n%s", tc.decompress, tc.search, got, tc.want, b)
		}
	}
	// decompress is per search (MIG took it from one search at random).
	_, b := runModule(t, params(t, map[string]any{
		"z":     map[string]any{"paths": []string{root}, "contents": []string{"alice"}, "options": map[string]any{"matchall": true, "decompress": true}},
		"plain": map[string]any{"paths": []string{root}, "contents": []string{"alice"}, "options": map[string]any{"matchall": true}},
	}))
	d := decode(t, b)
	if strings.Join(hitNames(root, d.Elements["z"]), ",") != "auth.log.1.gz" || len(hitNames(root, d.Elements["plain"])) != 0 {
		t.Fatalf("per-search decompress: %s", b)
	}
}

func TestPathsAndRoots(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "etc")
	for _, p := range []string{"etc/a/x.conf", "etc/a/b/y.conf", "etcfoo/z.conf", "other/w.conf"} {
		full := filepath.Join(base, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("k=v\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Overlapping roots are walked once: the nested root and a file root add no duplicates.
	_, b := runModule(t, params(t, map[string]any{
		"s1": map[string]any{"paths": []string{root, filepath.Join(root, "a")}, "names": []string{"conf$"}, "options": map[string]any{"matchall": true}},
		"s2": map[string]any{"paths": []string{filepath.Join(root, "a", "b") + "/"}, "names": []string{"conf$"}, "options": map[string]any{"matchall": true, "maxdepth": 1}},
		"s3": map[string]any{"paths": []string{filepath.Join(root, "a", "x.conf")}, "names": []string{"conf$"}, "options": map[string]any{"matchall": true}},
		"s4": map[string]any{"paths": []string{filepath.Join(base, "etcfoo")}, "names": []string{"conf$"}, "options": map[string]any{"matchall": true}},
	}))
	d := decode(t, b)
	want := map[string]string{
		"s1": "etc/a/b/y.conf,etc/a/x.conf,etcfoo/z.conf", // MIG quirk: /etc covers /etcfoo (walked for s4)
		"s2": "etc/a/b/y.conf",
		"s3": "etc/a/x.conf",
		"s4": "etcfoo/z.conf",
	}
	for label, w := range want {
		if got := strings.Join(hitNames(base, d.Elements[label]), ","); got != w {
			t.Errorf("%s: %s, want %s", label, got, w)
		}
	}
	if d.Statistics.Filescount != 3 {
		t.Errorf("filescount %v, want 3 (each file once)", d.Statistics.Filescount)
	}
	if d.Elements["s2"][0].Search.Paths[0] != filepath.Join(root, "a", "b") {
		t.Errorf("paths must be cleaned in the echo: %v", d.Elements["s2"][0].Search.Paths)
	}
	// A missing root is an open failure reported in errors; the module still succeeds.
	res, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{filepath.Join(base, "nope")}, "names": []string{"x"}}}))
	d = decode(t, b)
	if !res.Success || d.Statistics.Openfailed != 1 || len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "ERROR: open ") {
		t.Fatalf("missing root: %s", b)
	}
}

func TestMaxErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	root := t.TempDir()
	for i := range 7 {
		if err := os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, fmt.Sprintf("broken%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		maxerrors, wantLen int
		last               string
	}{
		{0, 7, "ERROR: "},
		{3, 4, "4 errors were not returned (max errors = 3)"},
		{7, 7, "ERROR: "},
	} {
		_, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "names": []string{"x"},
			"options": map[string]any{"maxerrors": tc.maxerrors}}}))
		d := decode(t, b)
		if len(d.Errors) != tc.wantLen || !strings.HasPrefix(d.Errors[len(d.Errors)-1], tc.last) || d.Statistics.Openfailed != 7 {
			t.Fatalf("maxerrors %d: %q", tc.maxerrors, d.Errors)
		}
	}
}

func TestInvalidParameters(t *testing.T) {
	ok := func(extra string) string {
		return `{"searches":{"s1":{"paths":["/tmp"]` + extra + `}}}`
	}
	tests := []struct {
		name, params, want string
	}{
		{"not json", `{`, "invalid file module parameters"},
		{"wrong type", `{"searches":{"s1":{"paths":"/tmp"}}}`, "invalid file module parameters"},
		{"no searches", `{"searches":{}}`, "no search"},
		{"null search", `{"searches":{"s1":null}}`, "is null"},
		{"empty label", `{"searches":{"":{"paths":["/tmp"]}}}`, "label"},
		{"long label", `{"searches":{"` + strings.Repeat("a", 65) + `":{"paths":["/tmp"]}}}`, "label"},
		{"no paths", `{"searches":{"s1":{"names":["x"]}}}`, "paths is empty"},
		{"empty path", `{"searches":{"s1":{"paths":[""]}}}`, "empty path"},
		{"bad name regex", ok(`,"names":["(unclosed"]`), "invalid name regex"},
		{"bad inverted content regex", ok(`,"contents":["![z-a]"]`), "invalid content regex"},
		{"bad mode regex", ok(`,"modes":["*"]`), "invalid mode regex"},
		{"empty name", ok(`,"names":[""]`), "empty name"},
		{"bad size", ok(`,"sizes":["10x"]`), "invalid size"},
		{"size without number", ok(`,"sizes":["<k"]`), "invalid size"},
		{"inverted size", ok(`,"sizes":["!<10"]`), "invalid size"},
		{"bad mtime", ok(`,"mtimes":["10d"]`), "invalid mtime"},
		{"mtime without number", ok(`,"mtimes":["<d"]`), "invalid mtime"},
		{"md5 length", ok(`,"md5":["abcd"]`), "invalid md5 hash"},
		{"sha1 not hex", ok(`,"sha1":["` + strings.Repeat("g", 40) + `"]`), "not hexadecimal"},
		{"sha2 length", ok(`,"sha2":["` + strings.Repeat("a", 40) + `"]`), "unexpected length 40"},
		{"sha3 length", ok(`,"sha3":["` + strings.Repeat("a", 40) + `"]`), "unexpected length 40"},
		{"bad mismatch", ok(`,"options":{"mismatch":["names"]}`), "invalid mismatch value"},
		{"negative maxdepth", ok(`,"options":{"maxdepth":-1}`), "non-negative integers"},
		{"fractional matchlimit", ok(`,"options":{"matchlimit":1.5}`), "non-negative integers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := runModule(t, tc.params)
			if res.Success || res.FoundAnything || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], tc.want) {
				t.Fatalf("got %s, want error containing %q", b, tc.want)
			}
			if !strings.HasPrefix(string(b), `{"foundanything":false,"success":false,"elements":{},"statistics":{"exectime":"","filescount":0,"openfailed":0,"totalhits":0},"errors":[`) {
				t.Fatalf("invalid-parameter result shape: %s", b)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	root := stdTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Module{}.Run(ctx, json.RawMessage(params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "names": []string{"."}}})))
	if err == nil {
		t.Fatal("a cancelled run must return the context error")
	}
}

// BenchmarkFileModule walks a tree of 10,000 files with a name filter and a content filter.
func BenchmarkFileModule(b *testing.B) {
	root := b.TempDir()
	const n = 10000
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i%50), fmt.Sprintf("e%02d", (i/50)%20))
		if i < 1000 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		content := fmt.Sprintf("line one of file %d\nkey=value\nanother line\n", i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.conf", i)), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct{ name, params string }{
		{"name", fmt.Sprintf(`{"searches":{"s":{"paths":[%q],"names":["^f0001[0-9]\\.conf$"],"options":{"matchall":true}}}}`, root)},
		{"name+content", fmt.Sprintf(`{"searches":{"s":{"paths":[%q],"names":["\\.conf$"],"contents":["^key=value$"],"options":{"matchall":true}}}}`, root)},
		{"sha256", fmt.Sprintf(`{"searches":{"s":{"paths":[%q],"sha2":["%s"],"options":{"matchall":true}}}}`, root, strings.Repeat("0", 64))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				res, err := Module{}.Run(context.Background(), json.RawMessage(bc.params))
				if err != nil || !res.Success {
					b.Fatalf("run: %v %v", err, res.Errors)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

func TestLongLineEndsScanSilently(t *testing.T) {
	root := mkTree(t, []tfile{
		{path: "before", content: "needle\n" + strings.Repeat("a", 70<<10) + "\n"},
		{path: "after", content: strings.Repeat("a", 70<<10) + "\nneedle\n"},
	})
	res, b := runModule(t, params(t, map[string]any{"s": map[string]any{"paths": []string{root}, "contents": []string{"^needle$"},
		"options": map[string]any{"matchall": true}}}))
	d := decode(t, b)
	if got := strings.Join(hitNames(root, d.Elements["s"]), ","); got != "before" || !res.Success || d.Errors != nil {
		t.Fatalf("hits %s: %s", got, b)
	}
}
