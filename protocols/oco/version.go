package oco

import (
	"strconv"
	"strings"
)

// versionCompare is PHP's version_compare (the server decides HMAC or legacy with it): -1, 0, 1.
func versionCompare(a, b string) int {
	return compareParts(canonVersion(a), canonVersion(b))
}

func canonVersion(s string) []string {
	var parts []string
	var cur strings.Builder
	kind := 0 // 0 none, 1 digit, 2 other
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '.' || r == '-' || r == '_' || r == '+':
			flush()
			kind = 0
		case r >= '0' && r <= '9':
			if kind == 2 {
				flush()
			}
			kind = 1
			cur.WriteRune(r)
		default:
			if kind == 1 {
				flush()
			}
			kind = 2
			cur.WriteRune(r)
		}
	}
	flush()
	return parts
}

func isNum(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// specialForm ranks PHP's special version words (prefix match, as PHP does); unknown = -1.
func specialForm(s string) int {
	for _, f := range []struct {
		name string
		v    int
	}{{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3}, {"rc", 3}, {"#", 4}, {"pl", 5}, {"p", 5}} {
		if strings.HasPrefix(s, f.name) {
			return f.v
		}
	}
	return -1
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func comparePart(p1, p2 string) int {
	switch {
	case isNum(p1) && isNum(p2):
		a, _ := strconv.ParseInt(p1, 10, 64)
		b, _ := strconv.ParseInt(p2, 10, 64)
		return sign(int(a - b))
	case !isNum(p1) && !isNum(p2):
		return sign(specialForm(p1) - specialForm(p2))
	case isNum(p1):
		return sign(specialForm("#") - specialForm(p2))
	default:
		return sign(specialForm(p1) - specialForm("#"))
	}
}

func compareParts(a, b []string) int {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	if len(a) == 0 {
		return -1
	}
	if len(b) == 0 {
		return 1
	}
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if c := comparePart(a[i], b[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a) > n:
		if isNum(a[n]) {
			return 1
		}
		return compareParts(a[n:], []string{"#"})
	case len(b) > n:
		if isNum(b[n]) {
			return -1
		}
		return compareParts([]string{"#"}, b[n:])
	}
	return 0
}
