package ocofake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// phpJSON encodes like PHP's json_encode: "/" escaped as "\/", non-ASCII as \uXXXX.
func phpJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	in := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(in)+16)
	for i := 0; i < len(in); {
		c := in[i]
		if c == '/' {
			out = append(out, '\\', '/')
			i++
			continue
		}
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(in[i:])
		i += size
		if r > 0xFFFF {
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out, nil
}

// versionCompare is PHP's version_compare, written independently of the adapter's copy.
func versionCompare(a, b string) int {
	pa, pb := canon(a), canon(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		if i >= len(pa) {
			if isDigit(pb[i]) {
				return -1
			}
			return versionCompare("#", strings.Join(pb[i:], "."))
		}
		if i >= len(pb) {
			if isDigit(pa[i]) {
				return 1
			}
			return versionCompare(strings.Join(pa[i:], "."), "#")
		}
		if c := cmpPart(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return 0
}

func isDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func canon(s string) []string {
	var parts []string
	cur := ""
	prevDigit := false
	for i, r := range s {
		if strings.ContainsRune(".-_+", r) {
			if cur != "" {
				parts = append(parts, cur)
			}
			cur = ""
			continue
		}
		d := r >= '0' && r <= '9'
		if cur != "" && i > 0 && d != prevDigit {
			parts = append(parts, cur)
			cur = ""
		}
		cur += string(r)
		prevDigit = d
	}
	if cur != "" {
		parts = append(parts, cur)
	}
	return parts
}

func special(s string) int {
	for _, f := range []string{"dev", "alpha", "a", "beta", "b", "RC", "rc", "#", "pl", "p"} {
		if strings.HasPrefix(s, f) {
			return map[string]int{"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "RC": 3, "rc": 3, "#": 4, "pl": 5, "p": 5}[f]
		}
	}
	return -1
}

func cmpPart(a, b string) int {
	var x, y int
	switch {
	case isDigit(a) && isDigit(b):
		ai, _ := strconv.Atoi(a)
		bi, _ := strconv.Atoi(b)
		x, y = ai, bi
	case isDigit(a):
		x, y = special("#"), special(b)
	case isDigit(b):
		x, y = special(a), special("#")
	default:
		x, y = special(a), special(b)
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
