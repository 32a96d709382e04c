package collectors

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// regKey is a read-only registry key. The Windows collectors read the live registry through it
// (registry_windows.go) and the tests read a regedit export through the same interface, so the
// logic that turns keys into inventory runs, and is tested, on every OS.
type regKey interface {
	// Open opens a subkey by a backslash-separated path relative to this key. A missing key is an
	// error matching fs.ErrNotExist.
	Open(path string) (regKey, error)
	// SubKeys lists the direct subkey names.
	SubKeys() ([]string, error)
	// String reads a REG_SZ or REG_EXPAND_SZ value (unexpanded).
	String(name string) (string, bool)
	// Integer reads a REG_DWORD or REG_QWORD value.
	Integer(name string) (uint64, bool)
	// Binary reads a REG_BINARY value.
	Binary(name string) ([]byte, bool)
	// Strings reads a REG_MULTI_SZ value.
	Strings(name string) ([]string, bool)
	Close()
}

// regValue is one value of an in-memory key; exactly one of the fields is meaningful, by kind.
type regValue struct {
	kind    string // "sz", "expand_sz", "multi_sz", "dword", "qword", "binary"
	str     string
	num     uint64
	data    []byte
	strings []string
}

// memRegKey is an in-memory registry key built from a .reg export. Names compare
// case-insensitively, as in the registry.
type memRegKey struct {
	name   string
	subs   map[string]*memRegKey // lower-case name -> key
	values map[string]regValue   // lower-case name -> value ("" is the default value)
}

func newMemRegKey(name string) *memRegKey {
	return &memRegKey{name: name, subs: map[string]*memRegKey{}, values: map[string]regValue{}}
}

func (k *memRegKey) Open(path string) (regKey, error) {
	cur := k
	for _, part := range strings.Split(path, `\`) {
		if part == "" {
			continue
		}
		next, ok := cur.subs[strings.ToLower(part)]
		if !ok {
			return nil, fmt.Errorf("open registry key %q: %w", path, fs.ErrNotExist)
		}
		cur = next
	}
	return cur, nil
}

func (k *memRegKey) SubKeys() ([]string, error) {
	names := make([]string, 0, len(k.subs))
	for _, s := range k.subs {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names, nil
}

func (k *memRegKey) String(name string) (string, bool) {
	v, ok := k.values[strings.ToLower(name)]
	if !ok || (v.kind != "sz" && v.kind != "expand_sz") {
		return "", false
	}
	return v.str, true
}

func (k *memRegKey) Integer(name string) (uint64, bool) {
	v, ok := k.values[strings.ToLower(name)]
	if !ok || (v.kind != "dword" && v.kind != "qword") {
		return 0, false
	}
	return v.num, true
}

func (k *memRegKey) Binary(name string) ([]byte, bool) {
	v, ok := k.values[strings.ToLower(name)]
	if !ok || v.kind != "binary" {
		return nil, false
	}
	return v.data, true
}

func (k *memRegKey) Strings(name string) ([]string, bool) {
	v, ok := k.values[strings.ToLower(name)]
	if !ok || v.kind != "multi_sz" {
		return nil, false
	}
	return v.strings, true
}

func (k *memRegKey) Close() {}

// create returns the key at path below k, creating missing parts.
func (k *memRegKey) create(path string) *memRegKey {
	cur := k
	for _, part := range strings.Split(path, `\`) {
		if part == "" {
			continue
		}
		lower := strings.ToLower(part)
		next, ok := cur.subs[lower]
		if !ok {
			next = newMemRegKey(part)
			cur.subs[lower] = next
		}
		cur = next
	}
	return cur
}

// parseRegExport reads a regedit export ("Windows Registry Editor Version 5.00", UTF-16LE with
// a BOM as regedit writes it, or UTF-8; "REGEDIT4" too) into an in-memory tree whose root holds
// the hives by their full names (HKEY_LOCAL_MACHINE, HKEY_USERS...).
func parseRegExport(b []byte) (*memRegKey, error) {
	text, err := decodeRegText(b)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	root := newMemRegKey("")
	var cur *memRegKey
	header, ansi := false, false
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		// Hex data continues over lines ending with a backslash.
		for isHexValue(line) && strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimSpace(lines[i])
		}
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
			continue
		case !header:
			if line != "Windows Registry Editor Version 5.00" && line != "REGEDIT4" {
				return nil, fmt.Errorf("parse .reg export: line %d: unknown header %q", lineNo, regShorten(line, 60))
			}
			header, ansi = true, line == "REGEDIT4"
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("parse .reg export: line %d: unterminated key %q", lineNo, regShorten(line, 60))
			}
			path := line[1 : len(line)-1]
			if strings.HasPrefix(path, "-") {
				cur = nil // a deletion: not part of a snapshot, ignore its values
				continue
			}
			cur = root.create(path)
		default:
			if cur == nil {
				continue
			}
			name, val, err := parseRegValueLine(line, ansi)
			if err != nil {
				return nil, fmt.Errorf("parse .reg export: line %d: %w", lineNo, err)
			}
			if val == nil {
				continue // deletion "-"
			}
			cur.values[strings.ToLower(name)] = *val
		}
	}
	if !header {
		return nil, errors.New("parse .reg export: empty input")
	}
	return root, nil
}

// isHexValue says whether a value line holds hex data, the only kind that continues over lines.
func isHexValue(line string) bool {
	var rest string
	switch {
	case strings.HasPrefix(line, "@="):
		rest = line[2:]
	case strings.HasPrefix(line, `"`):
		end := closingQuote(line, 1)
		if end < 0 || end+1 >= len(line) || line[end+1] != '=' {
			return false
		}
		rest = line[end+2:]
	default:
		return false
	}
	return strings.HasPrefix(rest, "hex")
}

// closingQuote returns the index of the quote that ends a string starting at from.
func closingQuote(s string, from int) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// parseRegValueLine reads `"name"=data` or `@=data`. ansi is set for REGEDIT4 files, whose
// hex(2) and hex(7) strings are single-byte rather than UTF-16.
func parseRegValueLine(line string, ansi bool) (string, *regValue, error) {
	var name, rest string
	switch {
	case strings.HasPrefix(line, "@="):
		rest = line[2:]
	case strings.HasPrefix(line, `"`):
		end := closingQuote(line, 1)
		if end < 0 || end+1 >= len(line) || line[end+1] != '=' {
			return "", nil, fmt.Errorf("malformed value line %q", regShorten(line, 60))
		}
		name = unescapeRegString(line[1:end])
		rest = line[end+2:]
	default:
		return "", nil, fmt.Errorf("malformed value line %q", regShorten(line, 60))
	}
	v, err := parseRegData(rest, ansi)
	if err != nil {
		return "", nil, fmt.Errorf("value %q: %w", name, err)
	}
	return name, v, nil
}

func parseRegData(s string, ansi bool) (*regValue, error) {
	switch {
	case s == "-":
		return nil, nil
	case strings.HasPrefix(s, `"`):
		end := closingQuote(s, 1)
		if end != len(s)-1 {
			return nil, fmt.Errorf("unterminated string %q", regShorten(s, 60))
		}
		return &regValue{kind: "sz", str: unescapeRegString(s[1:end])}, nil
	case strings.HasPrefix(s, "dword:"):
		n, err := strconv.ParseUint(s[len("dword:"):], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("dword %q: %w", s, err)
		}
		return &regValue{kind: "dword", num: n}, nil
	case strings.HasPrefix(s, "hex"):
		typ := "3" // plain "hex:" is REG_BINARY
		rest := s[3:]
		if strings.HasPrefix(rest, "(") {
			end := strings.Index(rest, ")")
			if end < 0 {
				return nil, fmt.Errorf("malformed hex type %q", regShorten(s, 60))
			}
			typ, rest = strings.ToLower(rest[1:end]), rest[end+1:]
		}
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("malformed hex value %q", regShorten(s, 60))
		}
		data, err := decodeRegHex(rest[1:])
		if err != nil {
			return nil, err
		}
		if ansi && (typ == "1" || typ == "2" || typ == "7") {
			data = widenANSI(data)
		}
		return regValueFromHex(typ, data)
	}
	return nil, fmt.Errorf("unknown data %q", regShorten(s, 60))
}

func regValueFromHex(typ string, data []byte) (*regValue, error) {
	switch typ {
	case "1": // REG_SZ
		return &regValue{kind: "sz", str: firstUTF16String(data)}, nil
	case "2": // REG_EXPAND_SZ
		return &regValue{kind: "expand_sz", str: firstUTF16String(data)}, nil
	case "4": // REG_DWORD little endian
		if len(data) != 4 {
			return nil, fmt.Errorf("hex(4) dword has %d bytes, want 4", len(data))
		}
		return &regValue{kind: "dword", num: uint64(binary.LittleEndian.Uint32(data))}, nil
	case "7": // REG_MULTI_SZ
		return &regValue{kind: "multi_sz", strings: utf16Strings(data)}, nil
	case "b": // REG_QWORD
		if len(data) != 8 {
			return nil, fmt.Errorf("hex(b) qword has %d bytes, want 8", len(data))
		}
		return &regValue{kind: "qword", num: binary.LittleEndian.Uint64(data)}, nil
	default: // REG_BINARY, REG_NONE and the rare others: keep the bytes
		return &regValue{kind: "binary", data: data}, nil
	}
}

// widenANSI turns REGEDIT4's single-byte string data into UTF-16LE (Latin-1 as the code page).
func widenANSI(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, c, 0)
	}
	return out
}

func decodeRegHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", "\t", "", `\`, "").Replace(s)
	if s == "" {
		return []byte{}, nil
	}
	parts := strings.Split(s, ",")
	out := make([]byte, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			continue
		}
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != 1 {
			return nil, fmt.Errorf("bad hex byte %q", regShorten(p, 10))
		}
		out = append(out, b[0])
	}
	return out, nil
}

func unescapeRegString(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decodeUTF16LE decodes little-endian UTF-16 bytes (an odd trailing byte is dropped).
func decodeUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// firstUTF16String decodes a NUL-terminated UTF-16LE string.
func firstUTF16String(b []byte) string {
	s := decodeUTF16LE(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

// utf16Strings decodes a REG_MULTI_SZ: NUL-separated, double-NUL-terminated.
func utf16Strings(b []byte) []string {
	var out []string
	for _, s := range strings.Split(decodeUTF16LE(b), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func decodeRegText(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return decodeUTF16LE(b[2:]), nil
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return string(b[3:]), nil
	case len(b) >= 2 && b[1] == 0 && b[0] != 0:
		return decodeUTF16LE(b), nil // UTF-16LE without a BOM
	}
	return string(b), nil
}

func regShorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// eachSubKey opens every direct subkey of k that keep accepts (nil: all), calls fn with its name
// and key, and closes it. Subkeys that cannot be listed or opened are skipped, like missing values.
func eachSubKey(k regKey, keep func(name string) bool, fn func(name string, sub regKey)) {
	names, err := k.SubKeys()
	if err != nil {
		return
	}
	for _, n := range names {
		if keep != nil && !keep(n) {
			continue
		}
		sub, err := k.Open(n)
		if err != nil {
			continue
		}
		fn(n, sub)
		sub.Close()
	}
}

// hasSubKey reports whether k has the subkey name (Windows marks attached devices with a
// volatile Control subkey).
func hasSubKey(k regKey, name string) bool {
	sub, err := k.Open(name)
	if err != nil {
		return false
	}
	sub.Close()
	return true
}
