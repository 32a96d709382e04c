// Package file is MIG's file module: it walks the given paths and reports the files matching
// name, content, size, mode, mtime and hash filters, with results byte-compatible with MIG's so
// that MIG's console and client decode them (shared/protocols/mig.md §5).
//
// Documented deviations from MIG's agent (bugs fixed, or behaviour made deterministic):
//   - decompress, returnsha256 and the other options apply per search (MIG took decompress from
//     one search at random, for all of them);
//   - a matchany echo of a sha2/sha3 check holds that check's value (MIG echoed nothing for
//     SHA-256/384 and SHA3-224/256/384, and the search's sha2 list plus the value for SHA3-512);
//   - maxdepth 0 and matchlimit 0 mean unlimited (MIG turned them into 1000);
//   - a root the investigator names that is a symlink to a directory is walked (MIG skipped it
//     with a warning; macOS's /etc is such a link); symlinked directories met during the walk
//     are still not followed;
//   - a file met both as a root and inside another root is inspected once, and a search that
//     was active in one directory never leaks into a sibling (MIG's depth counters did);
//   - searches run in label order, so the first validation error and the errors list are
//     stable;
//   - no process-wide state: several runs may proceed concurrently.
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
	"errors"
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
		// MIG answers invalid parameters with an empty element map and zero statistics.
		return modules.Normalize(modules.Result{Elements: map[string][]MatchedFile{},
			Statistics: Statistics{}, Errors: []string{err.Error()}})
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	r := &run{ctx: ctx, now: now(), searches: sortedSearches(searches), hits: map[*search][]hit{},
		roots: map[string]bool{}, traversed: map[string]bool{}}
	roots := rootList(r.searches)
	for _, root := range roots {
		r.roots[root] = true
	}
	for _, root := range roots {
		if err := ctx.Err(); err != nil {
			return modules.Result{}, err
		}
		if r.traversed[root] {
			continue
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
	out, err := modules.Normalize(res)
	if err != nil {
		return modules.Failed(fmt.Errorf("file module: %w", err)), nil
	}
	return out, nil
}

func sortedSearches(m map[string]*search) []*search {
	out := make([]*search, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out
}

// rootList is the sorted union of all searches' paths. A root met while walking another one is
// marked traversed and not walked again.
func rootList(ss []*search) []string {
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
	return all
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
	roots      map[string]bool
	traversed  map[string]bool
	files      int
	openFailed int
	totalHits  int
	errs       []string
	lineBuf    []byte // scanner buffer reused across files
	copyBuf    []byte // hashing buffer reused across files
}

func (r *run) addErr(err error) { r.errs = append(r.errs, "ERROR: "+err.Error()) }

func (r *run) openFailure(err error) {
	r.openFailed++
	r.addErr(err)
}

func (r *run) walkRoot(root string) {
	// MIG opens each root first: a missing or unreadable root is an open failure.
	f, err := os.Open(root)
	if err != nil {
		r.openFailure(err)
		return
	}
	f.Close()
	fi, err := os.Lstat(root)
	if err != nil {
		r.openFailure(err)
		return
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		// Deviation from MIG (documented): a root the investigator named is followed even when
		// it is a symlink to a directory (macOS's /etc is one); symlinked directories met
		// during the walk are not.
		if fi, err = os.Stat(root); err != nil {
			r.openFailure(err)
			return
		}
	}
	switch {
	case fi.IsDir():
		r.walkDir(root)
	case fi.Mode().IsRegular():
		r.inspect(root, fi, r.activeForFile(root))
	}
}

// depth of the files directly in dir for search s, or -1 when s does not cover dir. Coverage is
// a string prefix test (MIG's: /etc covers /etcfoo).
func depth(s *search, dir string) int {
	best := -1
	for _, p := range s.paths {
		if !strings.HasPrefix(dir, p) {
			continue
		}
		d := 1
		if dir != p {
			base := strings.TrimSuffix(p, string(filepath.Separator)) // "/" counts as ""
			d = strings.Count(dir[len(base):], string(filepath.Separator)) + 1
		}
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
		if r.coversDir(s, dir) {
			act = append(act, s)
		}
	}
	return act
}

func (r *run) coversDir(s *search, dir string) bool {
	d := depth(s, dir)
	return d >= 0 && (s.maxDepth == 0 || d <= s.maxDepth) && r.underLimit(s)
}

// activeForFile: the searches for a file given as a root, those naming it and those covering
// its directory.
func (r *run) activeForFile(path string) []*search {
	dir := filepath.Dir(path)
	var act []*search
	for _, s := range r.searches {
		named := false
		for _, p := range s.paths {
			if p == path {
				named = true
			}
		}
		if (named && r.underLimit(s)) || r.coversDir(s, dir) {
			act = append(act, s)
		}
	}
	return act
}

func (r *run) walkDir(dir string) {
	if r.ctx.Err() != nil {
		return
	}
	if r.roots[dir] {
		r.traversed[dir] = true
	}
	act := r.activeIn(dir)
	if len(act) == 0 {
		return // MIG neither reads nor descends a directory no search is interested in
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.openFailure(err)
		if len(entries) == 0 {
			return
		}
	}
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
		case r.roots[p]:
			// A file that is itself a root is inspected once, as a root.
		case t&os.ModeSymlink != 0:
			// File symlinks are followed (even outside the roots), directory ones are not.
			fi, err := os.Stat(p)
			if err != nil {
				r.openFailure(err)
				continue
			}
			if fi.Mode().IsRegular() {
				r.inspect(p, fi, act)
			}
		case t.IsRegular():
			fi, err := e.Info()
			if err != nil {
				r.openFailure(err)
				continue
			}
			r.inspect(p, fi, act)
		}
	}
	for _, sd := range subdirs {
		r.walkDir(sd)
	}
}

// fileData is one file under inspection; it caches what was read from it across searches.
type fileData struct {
	ctx     context.Context
	path    string
	info    os.FileInfo
	hashes  map[string]string // key: alg + decompress flag
	openErr error             // the first open failure, counted once
}

func (r *run) inspect(path string, fi os.FileInfo, act []*search) {
	if len(act) == 0 {
		return
	}
	r.files++
	fd := &fileData{ctx: r.ctx, path: path, info: fi}
	for _, s := range act {
		if !r.underLimit(s) {
			continue
		}
		if s.matchAll {
			r.matchAll(s, fd)
		} else {
			r.matchAny(s, fd)
		}
	}
}

func contentChecks(s *search) []*check {
	var out []*check
	for _, c := range s.checks {
		if c.kind == "content" {
			out = append(out, c)
		}
	}
	return out
}

func (r *run) matchAll(s *search, fd *fileData) {
	if len(s.checks) == 0 {
		return // MIG: a matchall search without filters matches nothing
	}
	for _, c := range s.checks {
		if isMeta(c.kind) && !evalMeta(c, fd.path, fd.info, r.now) {
			return
		}
	}
	decompress := s.raw.Options.Decompress
	if contents := contentChecks(s); len(contents) > 0 {
		res, ok := r.evalContents(fd, contents, s.macroal, decompress)
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
			pass, ok := r.evalHash(fd, c, decompress)
			if !ok || !pass {
				return
			}
		}
	}
	h := hit{path: fd.path, info: fd.info}
	if s.raw.Options.ReturnSHA256 {
		// Like MIG, on the decompressed stream when decompress is set.
		sum, err := r.hash(fd, algSHA256, decompress)
		if err != nil {
			return
		}
		h.sum = sum
	}
	r.hits[s] = append(r.hits[s], h)
	r.totalHits++
}

func (r *run) matchAny(s *search, fd *fileData) {
	contents := contentChecks(s)
	var contentRes []bool
	contentOK := true
	if len(contents) > 0 {
		contentRes, contentOK = r.evalContents(fd, contents, s.macroal, s.raw.Options.Decompress)
	}
	ci := 0
	for _, c := range s.checks {
		var pass bool
		switch {
		case c.kind == "content":
			pass = contentOK && contentRes[ci]
			ci++
		case isMeta(c.kind):
			pass = evalMeta(c, fd.path, fd.info, r.now)
		default:
			p, ok := r.evalHash(fd, c, s.raw.Options.Decompress)
			pass = ok && p
		}
		if pass {
			r.hits[s] = append(r.hits[s], hit{check: c, path: fd.path, info: fd.info})
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
		// MIG's bounds are strict: "<N" = after now-N, ">N" = before now-N.
		limit := now.Add(-c.mtimeAge)
		if c.mtimeOp == '<' {
			match = fi.ModTime().After(limit)
		} else {
			match = fi.ModTime().Before(limit)
		}
	}
	return outcome(c, match)
}

// ctxReader stops a long read when the operation's context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// open returns the file's stream, gunzipped when decompress is set and the file starts with the
// gzip magic. An open failure is counted once per file.
func (r *run) open(fd *fileData, decompress bool) (io.ReadCloser, bool) {
	if fd.openErr != nil {
		return nil, false
	}
	f, err := os.Open(fd.path)
	if err != nil {
		fd.openErr = err
		r.openFailure(err)
		return nil, false
	}
	cr := ctxReader{fd.ctx, f}
	if !decompress {
		return readCloser{cr, f}, true
	}
	br := bufio.NewReader(cr)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			r.addErr(fmt.Errorf("gunzip %s: %w", fd.path, err))
			return nil, false
		}
		return readCloser{zr, f}, true
	}
	return readCloser{br, f}, true
}

type readCloser struct {
	io.Reader
	io.Closer
}

// evalContents scans the file once for all content checks of a search; ok is false when it
// could not be read.
func (r *run) evalContents(fd *fileData, cs []*check, macroal, decompress bool) ([]bool, bool) {
	rc, ok := r.open(fd, decompress)
	if !ok {
		return nil, false
	}
	defer rc.Close()
	anyLine := make([]bool, len(cs))
	allLines := make([]bool, len(cs))
	for i := range allLines {
		allLines[i] = true
	}
	sc := bufio.NewScanner(rc)
	if r.lineBuf == nil {
		r.lineBuf = make([]byte, 0, 16<<10)
	}
	sc.Buffer(r.lineBuf[:0], maxLine) // reused across files: one walk is one goroutine
	lines := 0
	for sc.Scan() {
		lines++
		line := sc.Bytes()
		for i, c := range cs {
			if c.re.Match(line) {
				anyLine[i] = true
			} else {
				allLines[i] = false
			}
		}
	}
	// A scan error (line over 64 KiB, read error) ends the scan of this file silently, as in
	// MIG.
	out := make([]bool, len(cs))
	for i, c := range cs {
		match := anyLine[i]
		if macroal && !c.inverse {
			// Every line must match; MIG never passes an empty file in macroal.
			match = allLines[i] && lines > 0
		}
		out[i] = outcome(c, match)
	}
	return out, true
}

func (r *run) evalHash(fd *fileData, c *check, decompress bool) (pass, ok bool) {
	sum, err := r.hash(fd, c.alg, decompress)
	if err != nil {
		return false, false
	}
	return outcome(c, sum == c.hash), true
}

// hash returns the upper-case hex digest of the file, cached per algorithm.
func (r *run) hash(fd *fileData, a hashAlg, decompress bool) (string, error) {
	key := string(a)
	if decompress {
		key += "+z"
	}
	if sum, ok := fd.hashes[key]; ok {
		return sum, nil
	}
	rc, ok := r.open(fd, decompress)
	if !ok {
		return "", errors.New("unreadable")
	}
	defer rc.Close()
	h := newHash(a)
	if r.copyBuf == nil {
		r.copyBuf = make([]byte, 32<<10)
	}
	if _, err := io.CopyBuffer(h, rc, r.copyBuf); err != nil {
		err = fmt.Errorf("read %s: %w", fd.path, err)
		r.addErr(err)
		return "", err
	}
	sum := strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
	if fd.hashes == nil {
		fd.hashes = map[string]string{}
	}
	fd.hashes[key] = sum
	return sum, nil
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
