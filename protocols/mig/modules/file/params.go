package file

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/lazyre"
)

// Params is the module's parameter object.
type Params struct {
	Searches map[string]*Search `json:"searches"`
}

// Search is one labelled search, also the "search" echo of the results (MIG's field set).
type Search struct {
	Description string   `json:"description,omitempty"`
	Paths       []string `json:"paths"`
	Contents    []string `json:"contents,omitempty"`
	Names       []string `json:"names,omitempty"`
	Sizes       []string `json:"sizes,omitempty"`
	Modes       []string `json:"modes,omitempty"`
	Mtimes      []string `json:"mtimes,omitempty"`
	MD5         []string `json:"md5,omitempty"`
	SHA1        []string `json:"sha1,omitempty"`
	SHA2        []string `json:"sha2,omitempty"`
	SHA3        []string `json:"sha3,omitempty"`
	Options     Options  `json:"options"`
}

// Options are a search's options. Numbers are float64 as in MIG.
type Options struct {
	MaxDepth     float64  `json:"maxdepth"`
	MaxErrors    float64  `json:"maxerrors"`
	RemoteFS     bool     `json:"remotefs,omitempty"`
	MatchAll     bool     `json:"matchall"`
	Macroal      bool     `json:"macroal"`
	Mismatch     []string `json:"mismatch"`
	MatchLimit   float64  `json:"matchlimit"`
	Debug        string   `json:"debug,omitempty"`
	ReturnSHA256 bool     `json:"returnsha256,omitempty"`
	Decompress   bool     `json:"decompress,omitempty"`
}

// kinds in the order matchany results list them.
var kinds = []string{"content", "name", "size", "mode", "mtime", "md5", "sha1", "sha2", "sha3"}

type hashAlg string

const (
	algMD5     hashAlg = "md5"
	algSHA1    hashAlg = "sha1"
	algSHA256  hashAlg = "sha256"
	algSHA384  hashAlg = "sha384"
	algSHA512  hashAlg = "sha512"
	algSHA3224 hashAlg = "sha3_224"
	algSHA3256 hashAlg = "sha3_256"
	algSHA3384 hashAlg = "sha3_384"
	algSHA3512 hashAlg = "sha3_512"
)

// check is one compiled filter of a search.
type check struct {
	kind     string
	value    string // echo form (with its "!"; hashes upper-cased)
	inverse  bool
	mismatch bool
	re       *regexp.Regexp
	sizeOp   byte // '<', '>' or '='
	size     uint64
	mtimeOp  byte
	mtimeAge time.Duration
	alg      hashAlg
	hash     string // upper-case hex
}

// search is a validated search ready to run.
type search struct {
	label    string
	raw      Search // as given, paths cleaned
	paths    []string
	checks   []*check
	matchAll bool
	macroal  bool
	maxDepth int
	limit    int
}

var (
	sizeRe  = &lazyre.Regexp{Expr: `^(<|>)?[0-9]*(k|m|g|t)?$`}
	mtimeRe = &lazyre.Regexp{Expr: `^(<|>)[0-9]*(d|h|m)$`}
	hexRe   = &lazyre.Regexp{Expr: `^[0-9a-fA-F]+$`}
	labelRe = &lazyre.Regexp{Expr: `^.{1,64}$`}
)

// parse decodes and validates the parameters. Labels come back sorted by the caller.
func parse(raw json.RawMessage) (map[string]*search, error) {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("invalid file module parameters: %w", err)
	}
	if len(p.Searches) == 0 {
		return nil, errors.New("invalid file module parameters: no search")
	}
	labels := make([]string, 0, len(p.Searches))
	for label := range p.Searches {
		labels = append(labels, label)
	}
	sort.Strings(labels) // first error in a stable order
	out := make(map[string]*search, len(p.Searches))
	for _, label := range labels {
		s := p.Searches[label]
		if s == nil {
			return nil, fmt.Errorf("search %q is null", label)
		}
		if !labelRe.Get().MatchString(label) {
			return nil, fmt.Errorf("search label %q is invalid: must be 1 to 64 characters without a newline", label)
		}
		cs, err := compile(label, s)
		if err != nil {
			return nil, err
		}
		out[label] = cs
	}
	return out, nil
}

func compile(label string, s *Search) (*search, error) {
	if len(s.Paths) == 0 {
		return nil, fmt.Errorf("search %q: paths is empty", label)
	}
	o := s.Options
	for _, v := range []float64{o.MaxDepth, o.MaxErrors, o.MatchLimit} {
		if v < 0 || v > 1<<53 || v != float64(int64(v)) {
			return nil, fmt.Errorf("search %q: maxdepth, maxerrors and matchlimit must be non-negative integers", label)
		}
	}
	mism := map[string]bool{}
	for _, m := range o.Mismatch {
		ok := false
		for _, k := range kinds {
			if m == k {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("search %q: invalid mismatch value %q (want one of %s)", label, m, strings.Join(kinds, ", "))
		}
		mism[m] = true
	}
	cs := &search{label: label, raw: *s, matchAll: o.MatchAll, macroal: o.Macroal,
		maxDepth: int(o.MaxDepth), limit: int(o.MatchLimit)}
	cs.raw.Paths = nil
	for _, p := range s.Paths {
		if p == "" {
			return nil, fmt.Errorf("search %q: empty path", label)
		}
		c := filepath.Clean(p)
		cs.paths = append(cs.paths, c)
		cs.raw.Paths = append(cs.raw.Paths, c)
	}
	lists := map[string][]string{"content": s.Contents, "name": s.Names, "size": s.Sizes, "mode": s.Modes,
		"mtime": s.Mtimes, "md5": s.MD5, "sha1": s.SHA1, "sha2": s.SHA2, "sha3": s.SHA3}
	for _, kind := range kinds {
		for _, v := range lists[kind] {
			c, err := newCheck(kind, v)
			if err != nil {
				return nil, fmt.Errorf("search %q: %w", label, err)
			}
			c.mismatch = mism[kind]
			cs.checks = append(cs.checks, c)
		}
	}
	return cs, nil
}

func newCheck(kind, v string) (*check, error) {
	c := &check{kind: kind, value: v}
	body := v
	if v == "" {
		return nil, fmt.Errorf("empty %s value", kind)
	}
	// Only names and contents take MIG's "!" inversion; elsewhere "!" is an invalid value.
	if (kind == "content" || kind == "name") && len(v) > 1 && v[0] == '!' {
		c.inverse = true
		body = v[1:]
	}
	switch kind {
	case "content", "name", "mode":
		re, err := regexp.Compile(body)
		if err != nil {
			return nil, fmt.Errorf("invalid %s regex %q: %w", kind, v, err)
		}
		c.re = re
	case "size":
		if body == "" || !sizeRe.Get().MatchString(body) {
			return nil, fmt.Errorf("invalid size %q: want [<|>]N[k|m|g|t]", v)
		}
		c.sizeOp = '='
		if body[0] == '<' || body[0] == '>' {
			c.sizeOp = body[0]
			body = body[1:]
		}
		mult := uint64(1)
		if n := len(body); n > 0 {
			switch body[n-1] {
			case 'k':
				mult = 1 << 10
			case 'm':
				mult = 1 << 20
			case 'g':
				mult = 1 << 30
			case 't':
				mult = 1 << 40
			}
			if mult > 1 {
				body = body[:n-1]
			}
		}
		if body == "" {
			return nil, fmt.Errorf("invalid size %q: no number", v)
		}
		n, err := strconv.ParseUint(body, 10, 64)
		if err != nil || n > (1<<63)/mult {
			return nil, fmt.Errorf("invalid size %q: number out of range", v)
		}
		c.size = n * mult
	case "mtime":
		if !mtimeRe.Get().MatchString(body) || len(body) < 3 {
			return nil, fmt.Errorf("invalid mtime %q: want <N or >N followed by d, h or m", v)
		}
		c.mtimeOp = body[0]
		n, err := strconv.ParseInt(body[1:len(body)-1], 10, 64)
		if err != nil || n > 1e6*24*60 {
			return nil, fmt.Errorf("invalid mtime %q: number out of range", v)
		}
		unit := time.Minute
		switch body[len(body)-1] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		}
		c.mtimeAge = time.Duration(n) * unit
	default: // hashes
		if !hexRe.Get().MatchString(body) {
			return nil, fmt.Errorf("invalid %s hash %q: not hexadecimal", kind, v)
		}
		c.hash = strings.ToUpper(body)
		c.value = strings.ToUpper(v)
		var ok bool
		c.alg, ok = hashAlgFor(kind, len(body))
		if !ok {
			return nil, fmt.Errorf("invalid %s hash %q: unexpected length %d", kind, v, len(body))
		}
	}
	return c, nil
}

func hashAlgFor(kind string, n int) (hashAlg, bool) {
	switch {
	case kind == "md5" && n == 32:
		return algMD5, true
	case kind == "sha1" && n == 40:
		return algSHA1, true
	case kind == "sha2" && n == 64:
		return algSHA256, true
	case kind == "sha2" && n == 96:
		return algSHA384, true
	case kind == "sha2" && n == 128:
		return algSHA512, true
	case kind == "sha3" && n == 56:
		return algSHA3224, true
	case kind == "sha3" && n == 64:
		return algSHA3256, true
	case kind == "sha3" && n == 96:
		return algSHA3384, true
	case kind == "sha3" && n == 128:
		return algSHA3512, true
	}
	return "", false
}
