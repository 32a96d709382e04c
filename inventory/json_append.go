package inventory

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonAppender is a model type with a hand-written encoder that WriteJSON uses for list
// elements: encoding/json walks each of a thousand packages by reflection, the largest part of
// the command's encoding time. Each appendJSON must write exactly what encoding/json writes:
// TestAppendJSONMatchesEncodingJSON fills every field (a field added to the type and not
// here fails it).
// It writes the element already indented, as json.MarshalIndent with a prefix of depth
// indents does, so the indenter does not pass over it again.
type jsonAppender interface {
	appendJSON(b []byte, depth int) ([]byte, error)
}

func (s *Software) appendJSON(b []byte, depth int) ([]byte, error) {
	o := jsonObject{b: append(b, '{'), depth: depth}
	o.str("name", s.Name, false)
	o.str("version", s.Version, true)
	o.str("publisher", s.Publisher, true)
	o.time("install_date", s.InstallDate)
	o.uint("size_bytes", s.SizeBytes)
	o.str("arch", s.Arch, true)
	o.str("source", s.Source, false)
	o.str("comment", s.Comment, true)
	o.str("url", s.URL, true)
	o.str("guid", s.GUID, true)
	o.str("uninstall", s.Uninstall, true)
	o.str("install_path", s.InstallPath, true)
	o.str("user", s.User, true)
	o.bool("system_component", s.System)
	o.str("category", s.Category, true)
	o.str("multi_arch", s.MultiArch, true)
	return o.end()
}

func (p *Process) appendJSON(b []byte, depth int) ([]byte, error) {
	o := jsonObject{b: append(b, '{'), depth: depth}
	o.key("pid")
	o.b = strconv.AppendInt(o.b, int64(p.PID), 10)
	if p.PPID != 0 {
		o.key("ppid")
		o.b = strconv.AppendInt(o.b, int64(p.PPID), 10)
	}
	o.str("user", p.User, true)
	o.str("name", p.Name, true)
	o.str("command", p.Command, true)
	o.float("cpu_percent", p.CPUPercent)
	o.uint("mem_bytes", p.MemBytes)
	o.uint("virt_bytes", p.VirtBytes)
	o.float("mem_percent", p.MemPercent)
	o.time("started", p.Started)
	o.str("tty", p.TTY, true)
	return o.end()
}

// jsonObject appends an object's members as encoding/json does; omitted members are the
// zero values of omitempty and omitzero fields.
type jsonObject struct {
	b      []byte
	depth  int // of the object: its members are one deeper
	n      int // members written
	failed error
}

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = appendNewline(o.b, o.depth+1)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':', ' ')
}

func (o *jsonObject) end() ([]byte, error) {
	if o.failed != nil {
		return nil, o.failed
	}
	if o.n > 0 {
		o.b = appendNewline(o.b, o.depth)
	}
	return append(o.b, '}'), nil
}

func (o *jsonObject) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObject) uint(k string, v uint64) { // omitempty
	if v == 0 {
		return
	}
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

func (o *jsonObject) bool(k string, v bool) { // omitempty
	if !v {
		return
	}
	o.key(k)
	o.b = append(o.b, "true"...)
}

// float is encoding/json's float64 format: shortest repr, exponent only outside [1e-6, 1e21),
// "e-07" shortened to "e-7". NaN and infinities are its error.
func (o *jsonObject) float(k string, v float64) { // omitempty
	if v == 0 {
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		_, err := json.Marshal(v)
		o.failed = err
		return
	}
	o.key(k)
	format := byte('f')
	if abs := math.Abs(v); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	o.b = strconv.AppendFloat(o.b, v, format, -1, 64)
	if n := len(o.b); format == 'e' && n >= 4 && o.b[n-4] == 'e' && o.b[n-3] == '-' && o.b[n-2] == '0' {
		o.b[n-2] = o.b[n-1]
		o.b = o.b[:n-1]
	}
}

// time is time.Time's MarshalJSON (RFC 3339 with the nanoseconds it has); omitzero.
func (o *jsonObject) time(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	o.key(k)
	if y := t.Year(); t.Location() == time.UTC && y >= 0 && y <= 9999 {
		o.b = append(o.b, '"')
		o.b = t.AppendFormat(o.b, time.RFC3339Nano)
		o.b = append(o.b, '"')
		return
	}
	m, err := t.MarshalJSON() // another zone or a year MarshalJSON rejects: its own answer
	if err != nil {
		o.failed = fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err)
		return
	}
	o.b = append(o.b, m...)
}

// appendJSONString quotes s as encoding/json does with HTML escaping on (its appendString):
// <, > and & as \u003c..., control bytes as \n or \u00XX, invalid UTF-8 as \ufffd, U+2028
// and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
