package collectors

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Property lists (macOS): SystemVersion.plist is XML, package receipts and the local directory
// (dslocal) records are binary. parsePlist decodes both into plain Go values: map[string]any,
// []any, string, int64, float64, bool, time.Time and []byte.

// plistEpochUnix is 2001-01-01T00:00:00Z, the origin of plist dates, in Unix seconds (a
// constant: time.Date in a package variable runs at every start).
const plistEpochUnix = 978307200

// Limits that keep a hostile or corrupt file from exhausting memory or the stack.
const (
	plistMaxDepth   = 64
	plistMaxObjects = 1 << 20
)

// parsePlist decodes an XML or binary property list.
func parsePlist(b []byte) (any, error) {
	if bytes.HasPrefix(b, []byte("bplist00")) {
		return parseBinaryPlist(b)
	}
	return parseXMLPlist(b)
}

// plistDict decodes a property list whose top object must be a dictionary.
func plistDict(b []byte) (map[string]any, error) {
	v, err := parsePlist(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse plist: top object is %T, want a dictionary", v)
	}
	return m, nil
}

// plistString reads a string, or the first string of an array (dslocal stores every attribute
// as an array of strings).
func plistString(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			if s, ok := v[0].(string); ok {
				return s
			}
		}
	}
	return ""
}

// plistStrings reads an array of strings (or a single string).
func plistStrings(m map[string]any, key string) []string {
	switch v := m[key].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ---- XML ----

func parseXMLPlist(b []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("parse plist: no <plist> element")
			}
			return nil, fmt.Errorf("parse plist: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "plist" {
				return nil, fmt.Errorf("parse plist: root element <%s>, want <plist>", se.Name.Local)
			}
			v, err := xmlPlistNext(d, 0)
			if err != nil {
				return nil, fmt.Errorf("parse plist: %w", err)
			}
			return v, nil
		}
	}
}

// xmlPlistNext reads the next value element.
func xmlPlistNext(d *xml.Decoder, depth int) (any, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return xmlPlistValue(d, t, depth)
		case xml.EndElement:
			return nil, errEndOfContainer
		}
	}
}

var errEndOfContainer = errors.New("end of container")

func xmlPlistValue(d *xml.Decoder, se xml.StartElement, depth int) (any, error) {
	if depth > plistMaxDepth {
		return nil, errors.New("nested too deep")
	}
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch t := tok.(type) {
			case xml.EndElement:
				return m, nil
			case xml.StartElement:
				if t.Name.Local != "key" {
					return nil, fmt.Errorf("<%s> where a <key> was expected", t.Name.Local)
				}
				var key string
				if err := d.DecodeElement(&key, &t); err != nil {
					return nil, err
				}
				v, err := xmlPlistNext(d, depth+1)
				if err != nil {
					if errors.Is(err, errEndOfContainer) {
						return nil, fmt.Errorf("key %q has no value", key)
					}
					return nil, err
				}
				m[key] = v
			}
		}
	case "array":
		arr := []any{}
		for {
			v, err := xmlPlistNext(d, depth+1)
			if errors.Is(err, errEndOfContainer) {
				return arr, nil
			}
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case "true", "false":
		if err := d.Skip(); err != nil {
			return nil, err
		}
		return se.Name.Local == "true", nil
	}
	var text string
	if err := d.DecodeElement(&text, &se); err != nil {
		return nil, err
	}
	text = strings.TrimSpace(text)
	switch se.Name.Local {
	case "string":
		return text, nil
	case "integer":
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %q: %w", text, err)
		}
		return n, nil
	case "real":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("real %q: %w", text, err)
		}
		return f, nil
	case "date":
		t, err := time.Parse(time.RFC3339, text)
		if err != nil {
			return nil, fmt.Errorf("date %q: %w", text, err)
		}
		return t.UTC(), nil
	case "data":
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("unknown element <%s>", se.Name.Local)
}

// ---- binary (bplist00) ----

type bplist struct {
	b         []byte
	offsets   []uint64
	refSize   int
	decoding  map[uint64]bool // cycle guard
	decodedAt int             // objects decoded so far (a DAG can expand exponentially)
}

func parseBinaryPlist(b []byte) (any, error) {
	if len(b) < 8+32 {
		return nil, fmt.Errorf("parse binary plist: %d bytes, too short", len(b))
	}
	tr := b[len(b)-32:]
	offSize, refSize := int(tr[6]), int(tr[7])
	numObjects := binary.BigEndian.Uint64(tr[8:])
	top := binary.BigEndian.Uint64(tr[16:])
	tableOff := binary.BigEndian.Uint64(tr[24:])
	if offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8 {
		return nil, fmt.Errorf("parse binary plist: bad trailer sizes %d/%d", offSize, refSize)
	}
	body := uint64(len(b) - 32)
	if numObjects == 0 || numObjects > plistMaxObjects || top >= numObjects || tableOff < 8 || tableOff > body ||
		numObjects*uint64(offSize) > body-tableOff {
		return nil, errors.New("parse binary plist: bad trailer")
	}
	p := &bplist{b: b[:tableOff], refSize: refSize, decoding: map[uint64]bool{}}
	p.offsets = make([]uint64, numObjects)
	for i := range p.offsets {
		p.offsets[i] = beUint(b[tableOff+uint64(i*offSize):][:offSize])
	}
	v, err := p.object(top, 0)
	if err != nil {
		return nil, fmt.Errorf("parse binary plist: %w", err)
	}
	return v, nil
}

func beUint(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

func (p *bplist) object(ref uint64, depth int) (any, error) {
	if depth > plistMaxDepth {
		return nil, errors.New("nested too deep")
	}
	if ref >= uint64(len(p.offsets)) {
		return nil, fmt.Errorf("object reference %d out of range", ref)
	}
	p.decodedAt++
	if p.decodedAt > plistMaxObjects {
		return nil, errors.New("too many objects")
	}
	off := p.offsets[ref]
	if off < 8 || off >= uint64(len(p.b)) {
		return nil, fmt.Errorf("object %d offset %d out of range", ref, off)
	}
	marker := p.b[off]
	kind, info := marker>>4, int(marker&0x0f)
	pos := off + 1
	switch kind {
	case 0x0:
		switch marker {
		case 0x08:
			return false, nil
		case 0x09:
			return true, nil
		}
		return nil, nil // null / fill
	case 0x1: // int of 2^info bytes
		n := 1 << info
		raw, err := p.slice(pos, uint64(n))
		if err != nil || n > 16 {
			return nil, fmt.Errorf("object %d: bad int", ref)
		}
		if n == 16 {
			raw = raw[8:] // 128-bit ints hold unsigned 64-bit values
		}
		return int64(beUint(raw)), nil // 8-byte ints are signed, smaller ones unsigned: both fit
	case 0x2: // real
		n := 1 << info
		raw, err := p.slice(pos, uint64(n))
		if err != nil {
			return nil, fmt.Errorf("object %d: bad real", ref)
		}
		switch n {
		case 4:
			return float64(math.Float32frombits(binary.BigEndian.Uint32(raw))), nil
		case 8:
			return math.Float64frombits(binary.BigEndian.Uint64(raw)), nil
		}
		return nil, fmt.Errorf("object %d: real of %d bytes", ref, n)
	case 0x3: // date: float64 seconds since 2001
		raw, err := p.slice(pos, 8)
		if err != nil {
			return nil, fmt.Errorf("object %d: bad date", ref)
		}
		secs := math.Float64frombits(binary.BigEndian.Uint64(raw))
		if math.IsNaN(secs) || math.Abs(secs) > 1e11 {
			return time.Time{}, nil
		}
		return time.Unix(plistEpochUnix, 0).UTC().Add(time.Duration(secs * float64(time.Second))), nil
	case 0x4, 0x5, 0x6, 0xA, 0xD: // data, ASCII, UTF-16, array, dict: sized
		n, pos, err := p.length(info, pos)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", ref, err)
		}
		switch kind {
		case 0x4:
			raw, err := p.slice(pos, n)
			if err != nil {
				return nil, fmt.Errorf("object %d: %w", ref, err)
			}
			return append([]byte(nil), raw...), nil
		case 0x5:
			raw, err := p.slice(pos, n)
			if err != nil {
				return nil, fmt.Errorf("object %d: %w", ref, err)
			}
			return strings.ToValidUTF8(string(raw), "\uFFFD"), nil
		case 0x6:
			if n > uint64(len(p.b)) {
				return nil, fmt.Errorf("object %d: string too long", ref)
			}
			raw, err := p.slice(pos, n*2)
			if err != nil {
				return nil, fmt.Errorf("object %d: %w", ref, err)
			}
			u := make([]uint16, n)
			for i := range u {
				u[i] = binary.BigEndian.Uint16(raw[2*i:])
			}
			return string(utf16.Decode(u)), nil
		}
		if p.decoding[ref] {
			return nil, fmt.Errorf("object %d contains itself", ref)
		}
		p.decoding[ref] = true
		defer delete(p.decoding, ref)
		if kind == 0xA {
			refs, err := p.refs(pos, n)
			if err != nil {
				return nil, fmt.Errorf("object %d: %w", ref, err)
			}
			arr := make([]any, 0, len(refs))
			for _, r := range refs {
				v, err := p.object(r, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			return arr, nil
		}
		refs, err := p.refs(pos, 2*n)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", ref, err)
		}
		m := make(map[string]any, n)
		for i := uint64(0); i < n; i++ {
			k, err := p.object(refs[i], depth+1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("object %d: dictionary key is %T", ref, k)
			}
			v, err := p.object(refs[n+i], depth+1)
			if err != nil {
				return nil, err
			}
			m[ks] = v
		}
		return m, nil
	case 0x8: // UID (keyed archives)
		raw, err := p.slice(pos, uint64(info+1))
		if err != nil {
			return nil, fmt.Errorf("object %d: bad uid", ref)
		}
		return int64(beUint(raw)), nil
	}
	return nil, fmt.Errorf("object %d: unknown marker 0x%02x", ref, marker)
}

// length reads a container length: the low nibble, or an int object after it when 0xF.
func (p *bplist) length(info int, pos uint64) (uint64, uint64, error) {
	if info != 0x0f {
		return uint64(info), pos, nil
	}
	if pos >= uint64(len(p.b)) || p.b[pos]>>4 != 0x1 {
		return 0, 0, errors.New("bad length")
	}
	n := uint64(1) << (p.b[pos] & 0x0f)
	raw, err := p.slice(pos+1, n)
	if err != nil || n > 8 {
		return 0, 0, errors.New("bad length")
	}
	return beUint(raw), pos + 1 + n, nil
}

func (p *bplist) slice(pos, n uint64) ([]byte, error) {
	if pos > uint64(len(p.b)) || n > uint64(len(p.b))-pos {
		return nil, errors.New("data runs past the object table")
	}
	return p.b[pos : pos+n], nil
}

func (p *bplist) refs(pos, n uint64) ([]uint64, error) {
	if n > uint64(len(p.b)) {
		return nil, errors.New("too many references")
	}
	raw, err := p.slice(pos, n*uint64(p.refSize))
	if err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = beUint(raw[i*p.refSize : (i+1)*p.refSize])
	}
	return out, nil
}
