package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// serverHeaderLines returns the 1-based line of every [[server]] header, in order.
func serverHeaderLines(src string) []int {
	var out []int
	for i, line := range strings.Split(src, "\n") {
		if tableHeader(line) == "[[server]]" {
			out = append(out, i+1)
		}
	}
	return out
}

func tableHeader(line string) string {
	t := strings.TrimSpace(line)
	if i := strings.Index(t, "#"); i >= 0 && strings.HasPrefix(t, "[") {
		t = strings.TrimSpace(t[:i])
	}
	if !strings.HasPrefix(t, "[") {
		return ""
	}
	inner := strings.Trim(t, "[]")
	inner = strings.ReplaceAll(inner, " ", "")
	if strings.HasPrefix(t, "[[") {
		return "[[" + inner + "]]"
	}
	return "[" + inner + "]"
}

// keyLine finds the line where key is set: the decoder keeps key positions private, so the
// source is scanned. Keys in array tables come without an index; the first match wins.
func keyLine(src string, key toml.Key) int { return keyLineN(src, key, 0) }

// keyLineN is the line of the n-th (0-based) place key is set, else of the last one found.
func keyLineN(src string, key toml.Key, n int) int {
	if len(key) == 0 {
		return 0
	}
	found := 0
	table := ""
	want := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	for i, line := range strings.Split(src, "\n") {
		if h := tableHeader(line); h != "" {
			table = strings.Trim(h, "[]")
			if table == strings.Join(key, ".") {
				if n == 0 {
					return i + 1 // the key is itself a table
				}
				n--
				found = i + 1
			}
			continue
		}
		t := strings.TrimSpace(line)
		eq := strings.Index(t, "=")
		if eq <= 0 || strings.HasPrefix(t, "#") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(t[:eq]), `"'`)
		full := name
		if table != "" {
			full = table + "." + name
		}
		if full == want+"."+last || (want == "" && name == last) {
			if n == 0 {
				return i + 1
			}
			n--
			found = i + 1
		}
	}
	return found
}

// tomlError turns a decoder error into an *Error with the line when the decoder knows it.
func tomlError(source string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{Source: source, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	msg := err.Error()
	line := 0
	// "toml: line 3 (last key "server.interval"): ..." from the decoder's type errors.
	var key string
	if _, scanErr := fmt.Sscanf(msg, "toml: line %d (last key %q):", &line, &key); scanErr == nil {
		rest := msg[strings.Index(msg, "):")+2:]
		return &Error{Source: source, Line: line, Key: key, Msg: strings.TrimSpace(rest)}
	}
	return &Error{Source: source, Msg: strings.TrimPrefix(msg, "toml: ")}
}
