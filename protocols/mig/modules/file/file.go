// Package file is MIG's file module: it walks the given paths and reports the files matching
// name, content, size, mode, mtime and hash filters, with results byte-compatible with MIG's so
// that MIG's console and client decode them.
package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"  //nolint:gosec // MIG's md5 filter
	"crypto/sha1" //nolint:gosec // MIG's sha1 filter
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// Module is the file module. Now is the clock for mtime filters (nil: time.Now).
type Module struct {
	Now func() time.Time
}

// MatchedFile is one entry of a label's element list.
type MatchedFile struct {
	File     string   `json:"file"`
	Search   Search   `json:"search"`
	FileInfo FileInfo `json:"fileinfo"`
}

// FileInfo describes a matched file.
type FileInfo struct {
	Size         float64 `json:"size"`
	Mode         string  `json:"mode"`
	LastModified string  `json:"lastmodified"`
	SHA256       string  `json:"sha256,omitempty"`
}

// Statistics are the module's statistics object.
type Statistics struct {
	Filescount float64 `json:"filescount"`
	Openfailed float64 `json:"openfailed"`
	Totalhits  float64 `json:"totalhits"`
	Exectime   string  `json:"exectime"`
}

// maxLine is where a content scan of a file stops (MIG's scanner limit).
const maxLine = 64 << 10

// Run implements modules.Module.
func (m Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	start := time.Now()
	searches, err := parse(raw)
	if err != nil {
		return modules.Result{Elements: map[string][]MatchedFile{}, Errors: []string{err.Error()}}, nil
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	r := &run{ctx: ctx, now: now(), searches: sortedSearches(searches), hits: map[*search][]hit{}}
	for _, root := range roots(r.searches) {
		if err := ctx.Err(); err != nil {
			return modules.Result{}, err
		}
		r.walkRoot(root)
	}
	if err := ctx.Err(); err != nil {
		return modules.Result{}, err
	}
	res := modules.Result{Success: true, FoundAnything: r.totalHits > 0}
	res.Elements = r.elements()
	res.Statistics = Statistics{Filescount: float64(r.files), Openfailed: float64(r.openFailed),
		Totalhits: float64(r.totalHits), Exectime: time.Since(start).String()}
	res.Errors = r.cappedErrors()
	return res, nil
}

func sortedSearches(m map[string]*search) []*search {
	out := make([]*search, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out
}

// roots is the sorted union of all paths, without paths that lie inside another root (each
// tree is walked once).
func roots(ss []*search) []string {
	set := map[string]bool{}
	for _, s := range ss {
		for _, p := range s.paths {
			set[p] = true
		}
	}
	all := make([]string, 0, len(set))
	for p := range set {
		all = append(all, p)
	}
	sort.Strings(all)
	var out []string
	for _, p := range all {
		inside := false
		for _, q := range out {
			if isUnder(p, q) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	return out
}

// isUnder reports whether p is q or a path inside q.
func isUnder(p, q string) bool {
	if p == q {
		return true
	}
	if strings.HasSuffix(q, string(filepath.Separator)) {
		return strings.HasPrefix(p, q)
	}
	return strings.HasPrefix(p, q+string(filepath.Separator))
}

type hit struct {
	check *check // nil in matchall
	path  string
	info  os.FileInfo
	sum   string // sha256 for returnsha256
}

type run struct {
	ctx        context.Context
	now        time.Time
	searches   []*search
	hits       map[*search][]hit
	files      int
	openFailed int
	totalHits  int
	errs       []string
}

func (r *run) addErr(err error) { r.errs = append(r.errs, "ERROR: "+err.Error()) }

func (r *run) walkRoot(root string) {
	fi, err := os.Lstat(root)
	if err != nil {
		r.addErr(err)
		return
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		t, err := os.Stat(root)
		if err != nil {
			r.openFailed++
			r.addErr(err)
			return
		}
		fi = t
	}
	if !fi.IsDir() {
		var act []*search
		for _, s := range r.searches {
			for _, p := range s.paths {
				if strings.HasPrefix(root, p) && r.underLimit(s) {
					act = append(act, s)
					break
				}
			}
		}
		if fi.Mode().IsRegular() {
			r.inspect(root, fi, act)
		}
		return
	}
	r.walkDir(root)
}

// depth of the files directly in dir for search s, or -1 when s does not cover dir.
func depth(s *search, dir string) int {
	best := -1
	for _, p := range s.paths {
		if !strings.HasPrefix(dir, p) {
			continue
		}
		d := strings.Count(dir[len(p):], string(filepath.Separator)) + 1
		if best < 0 || d < best {
			best = d
		}
	}
	return best
}

func (r *run) underLimit(s *search) bool {
	return s.limit == 0 || r.totalHits < s.limit
}

func (r *run) activeIn(dir string) []*search {
	var act []*search
	for _, s := range r.searches {
		d := depth(s, dir)
		if d < 0 || (s.maxDepth > 0 && d > s.maxDepth) || !r.underLimit(s) {
			continue
		}
		act = append(act, s)
	}
	return act
}

// worthDescending: some search is (or may become) active in dir or below.
func (r *run) worthDescending(dir string) bool {
	for _, s := range r.searches {
		if !r.underLimit(s) {
			continue
		}
		if d := depth(s, dir); d >= 0 && (s.maxDepth == 0 || d <= s.maxDepth) {
			return true
		}
		for _, p := range s.paths {
			if isUnder(p, dir) {
				return true
			}
		}
	}
	return false
}

func (r *run) walkDir(dir string) {
	if r.ctx.Err() != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.openFailed++
		r.addErr(err)
		if len(entries) == 0 {
			return
		}
	}
	act := r.activeIn(dir)
	var subdirs []string
	for _, e := range entries {
		if r.ctx.Err() != nil {
			return
		}
		p := filepath.Join(dir, e.Name())
		t := e.Type()
		switch {
		case t.IsDir():
			subdirs = append(subdirs, p)
		case t&os.ModeSymlink != 0:
			// File symlinks are followed (even outside the roots), directory ones are not.
			fi, err := os.Stat(p)
			if err != nil {
				r.openFailed++
				r.addErr(err)
				continue
			}
			if fi.Mode().IsRegular() && len(act) > 0 {
				r.inspect(p, fi, r.stillActive(act))
			}
		case t.IsRegular():
			if len(act) == 0 {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				r.openFailed++
				r.addErr(err)
				continue
			}
			r.inspect(p, fi, r.stillActive(act))
		}
	}
	for _, sd := range subdirs {
		if r.worthDescending(sd) {
			r.walkDir(sd)
		}
	}
}

func (r *run) stillActive(act []*search) []*search {
	out := act[:0:0]
	for _, s := range act {
		if r.underLimit(s) {
			out = append(out, s)
		}
	}
	return out
}

// fileData caches what was read from one file across searches.
type fileData struct {
	path   string
	hashes map[string]string // key: alg + decompress flag
}

func (r *run) inspect(path string, fi os.FileInfo, act []*search) {
	if len(act) == 0 {
		return
	}
	r.files++
	fd := &fileData{path: path, hashes: map[string]string{}}
	for _, s := range act {
		if !r.underLimit(s) {
			continue
		}
		if s.matchAll {
			r.matchAll(s, fd, fi)
		} else {
			r.matchAny(s, fd, fi)
		}
	}
}

func (r *run) matchAll(s *search, fd *fileData, fi os.FileInfo) {
	for _, c := range s.checks {
		if isMeta(c.kind) && !evalMeta(c, fd.path, fi, r.now) {
			return
		}
	}
	var contents []*check
	for _, c := range s.checks {
		if c.kind == "content" {
			contents = append(contents, c)
		}
	}
	if len(contents) > 0 {
		res, ok := r.evalContents(fd.path, contents, s.macroal, s.raw.Options.Decompress)
		if !ok {
			return
		}
		for _, pass := range res {
			if !pass {
				return
			}
		}
	}
	for _, c := range s.checks {
		if isHash(c.kind) {
			pass, ok := r.evalHash(fd, c, s.raw.Options.Decompress)
			if !ok || !pass {
				return
			}
		}
	}
	h := hit{path: fd.path, info: fi}
	if s.raw.Options.ReturnSHA256 {
		if sum, err := fileHash(fd.path, algSHA256, false); err == nil {
			h.sum = sum
		} else {
			r.openFailed++
			r.addErr(err)
		}
	}
	r.hits[s] = append(r.hits[s], h)
	r.totalHits++
}

func (r *run) matchAny(s *search, fd *fileData, fi os.FileInfo) {
	var contents []*check
	for _, c := range s.checks {
		if c.kind == "content" {
			contents = append(contents, c)
		}
	}
	var contentRes []bool
	contentOK := true
	if len(contents) > 0 {
		contentRes, contentOK = r.evalContents(fd.path, contents, s.macroal, s.raw.Options.Decompress)
	}
	ci := 0
	for _, c := range s.checks {
		var pass bool
		switch {
		case c.kind == "content":
			pass = contentOK && contentRes[ci]
			ci++
		case isMeta(c.kind):
			pass = evalMeta(c, fd.path, fi, r.now)
		default:
			p, ok := r.evalHash(fd, c, s.raw.Options.Decompress)
			pass = ok && p
		}
		if pass {
			r.hits[s] = append(r.hits[s], hit{check: c, path: fd.path, info: fi})
			r.totalHits++
		}
	}
}

func isMeta(kind string) bool {
	return kind == "name" || kind == "size" || kind == "mode" || kind == "mtime"
}

func isHash(kind string) bool {
	return kind == "md5" || kind == "sha1" || kind == "sha2" || kind == "sha3"
}

// outcome applies the inversion and the mismatch option to a raw match.
func outcome(c *check, match bool) bool {
	return match != c.inverse != c.mismatch
}

func evalMeta(c *check, path string, fi os.FileInfo, now time.Time) bool {
	var match bool
	switch c.kind {
	case "name":
		match = c.re.MatchString(filepath.Base(path))
	case "mode":
		match = c.re.MatchString(fi.Mode().String())
	case "size":
		sz := uint64(fi.Size())
		switch c.sizeOp {
		case '<':
			match = sz <= c.size
		case '>':
			match = sz >= c.size
		default:
			match = sz == c.size
		}
	case "mtime":
		limit := now.Add(-c.mtimeAge)
		if c.mtimeOp == '<' {
			match = !fi.ModTime().Before(limit)
		} else {
			match = !fi.ModTime().After(limit)
		}
	}
	return outcome(c, match)
}

// open returns the file's stream, gunzipped when decompress is set and the file is gzip.
func open(path string, decompress bool) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !decompress {
		return f, nil
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return struct {
			io.Reader
			io.Closer
		}{br, f}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gunzip %s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// evalContents scans the file once for all content checks; ok is false when it could not be
// read.
func (r *run) evalContents(path string, cs []*check, macroal, decompress bool) ([]bool, bool) {
	rc, err := open(path, decompress)
	if err != nil {
		r.openFailed++
		r.addErr(err)
		return nil, false
	}
	defer rc.Close()
	any := make([]bool, len(cs))
	all := make([]bool, len(cs))
	for i := range all {
		all[i] = true
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for sc.Scan() {
		if n%1024 == 0 && r.ctx.Err() != nil {
			return nil, false
		}
		n++
		line := sc.Bytes()
		for i, c := range cs {
			if c.re.Match(line) {
				any[i] = true
			} else {
				all[i] = false
			}
		}
	}
	// A scan error (line over 64 KiB, read error) ends the scan of this file silently.
	out := make([]bool, len(cs))
	for i, c := range cs {
		match := any[i]
		if macroal && !c.inverse {
			match = all[i]
		}
		out[i] = outcome(c, match)
	}
	return out, true
}

func (r *run) evalHash(fd *fileData, c *check, decompress bool) (pass, ok bool) {
	key := string(c.alg)
	if decompress {
		key += "+z"
	}
	sum, cached := fd.hashes[key]
	if !cached {
		var err error
		sum, err = fileHash(fd.path, c.alg, decompress)
		if err != nil {
			r.openFailed++
			r.addErr(err)
			return false, false
		}
		fd.hashes[key] = sum
	}
	return outcome(c, sum == c.hash), true
}

func newHash(a hashAlg) hash.Hash {
	switch a {
	case algMD5:
		return md5.New() //nolint:gosec // requested by the investigator
	case algSHA1:
		return sha1.New() //nolint:gosec // requested by the investigator
	case algSHA384:
		return sha512.New384()
	case algSHA512:
		return sha512.New()
	case algSHA3224:
		return sha3.New224()
	case algSHA3256:
		return sha3.New256()
	case algSHA3384:
		return sha3.New384()
	case algSHA3512:
		return sha3.New512()
	}
	return sha256.New()
}

func fileHash(path string, a hashAlg, decompress bool) (string, error) {
	rc, err := open(path, decompress)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := newHash(a)
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}

func infoOf(h hit) FileInfo {
	return FileInfo{Size: float64(h.info.Size()), Mode: h.info.Mode().String(),
		LastModified: h.info.ModTime().UTC().String(), SHA256: h.sum}
}

func (r *run) elements() map[string][]MatchedFile {
	out := map[string][]MatchedFile{}
	for _, s := range r.searches {
		var list []MatchedFile
		if s.matchAll {
			echo := s.raw
			echo.Options.MaxDepth, echo.Options.MaxErrors, echo.Options.MatchLimit = 0, 0, 0
			for _, h := range r.hits[s] {
				list = append(list, MatchedFile{File: h.path, Search: echo, FileInfo: infoOf(h)})
			}
			if len(list) == 0 {
				list = append(list, MatchedFile{Search: echo})
			}
		} else {
			for _, c := range s.checks {
				found := false
				for _, h := range r.hits[s] {
					if h.check != c {
						continue
					}
					found = true
					list = append(list, MatchedFile{File: h.path, Search: echoOf(c, []string{filepath.Dir(h.path)}), FileInfo: infoOf(h)})
				}
				if !found {
					list = append(list, MatchedFile{Search: echoOf(c, s.raw.Paths)})
				}
			}
		}
		out[s.label] = list
	}
	return out
}

// echoOf is the matchany echo: only that check's value, zeroed options.
func echoOf(c *check, paths []string) Search {
	e := Search{Paths: paths}
	v := []string{c.value}
	switch c.kind {
	case "content":
		e.Contents = v
	case "name":
		e.Names = v
	case "size":
		e.Sizes = v
	case "mode":
		e.Modes = v
	case "mtime":
		e.Mtimes = v
	case "md5":
		e.MD5 = v
	case "sha1":
		e.SHA1 = v
	case "sha2":
		e.SHA2 = v
	case "sha3":
		e.SHA3 = v
	}
	return e
}

// cappedErrors caps the walking errors at the largest maxerrors (0 = unlimited).
func (r *run) cappedErrors() []string {
	if len(r.errs) == 0 {
		return nil
	}
	maxErr := 0
	for _, s := range r.searches {
		m := int(s.raw.Options.MaxErrors)
		if m == 0 {
			return r.errs
		}
		if m > maxErr {
			maxErr = m
		}
	}
	if len(r.errs) <= maxErr {
		return r.errs
	}
	out := append([]string(nil), r.errs[:maxErr]...)
	return append(out, fmt.Sprintf("%d errors were not returned (max errors = %d)", len(r.errs)-maxErr, maxErr))
}
