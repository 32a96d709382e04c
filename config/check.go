package config

import (
	"sort"
	"strings"
	"time"

	"github.com/omniagent/omniagent/lazyre"
)

// Errors is every error found in one file, in line order. Parse returns it when a file has
// more than one error, so `omniagent config check` shows them all in one run; errors.As finds
// each *Error in it.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap gives errors.Is/As the single errors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// MaxErrors bounds the errors (and warnings) reported for one file: each one scans the file
// for its line, and a huge broken file must not take quadratic time.
const MaxErrors = 50

// result is nil, the one *Error, or Errors sorted by line.
func result(es []*Error) error {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return Errors(es)
}

// Warning is a setting that parses but contradicts another one and will fail or be refused at
// run time (a remote shell enabled without allow_shell, say).
type Warning struct {
	Key string
	Msg string
}

// Linter is implemented by protocol options that can spot such contradictions. exec, shell
// and power are the server's effective job policy.
type Linter interface {
	Lint(s Server, exec, shell, power bool) []Warning
}

// ScheduleDescriber is implemented by protocol options whose schedule is more than "every
// interval" (MIG's heartbeat, GLPI's server-set expiration and deploy poll). interval is the
// server's effective interval: its own, else the protocol's default.
type ScheduleDescriber interface {
	Schedule(interval time.Duration) string
}

// lint collects the warnings of every server, each at its key's line.
func (c *Config) lint(src string) {
	for _, s := range c.Servers {
		exec, shell, power := c.Policy(s)
		var ws []Warning
		if l, ok := s.Options.(Linter); ok {
			ws = append(ws, l.Lint(s, exec, shell, power)...)
		}
		for _, w := range ws {
			if len(c.Warnings) >= MaxErrors {
				break
			}
			c.Warnings = append(c.Warnings, &Error{Source: c.Source, Line: serverKeyLine(src, s.Line, w.Key), Key: w.Key,
				Msg: "server " + quote(s.Name) + ": " + w.Msg})
		}
	}
	sort.SliceStable(c.Warnings, func(i, j int) bool { return c.Warnings[i].Line < c.Warnings[j].Line })
}

func quote(s string) string { return `"` + s + `"` }

// serverKeyLine is the line of key in the [[server]] table whose header is on line header, or
// of the first [[server.key]] sub-table; header when the key is not written there (a default).
func serverKeyLine(src string, header int, key string) int {
	if header <= 0 || key == "" {
		return header
	}
	lines := strings.Split(src, "\n")
	for i := header; i < len(lines); i++ { // lines[header] is the line after the header
		if h := tableHeader(lines[i]); h != "" {
			if t := strings.Trim(h, "[]"); t == "server."+key {
				return i + 1
			} else if !strings.HasPrefix(t, "server.") {
				break
			}
			continue
		}
		t := strings.TrimSpace(lines[i])
		if eq := strings.Index(t, "="); eq > 0 && !strings.HasPrefix(t, "#") {
			if strings.Trim(strings.TrimSpace(t[:eq]), `"'`) == key {
				return i + 1
			}
		}
	}
	return header
}

// leadingKey guesses the key a validation message is about: "device_id \"x\": want ..." or
// "actions[2]: ..." name it first.
var leadingKey = &lazyre.Regexp{Expr: `^([a-z][a-z0-9_]*)(\[\d+\])?[ :]`}

func keyOf(msg string) string {
	if m := leadingKey.Get().FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// brokenServer marks the keys written in the [[server]] table at line header (and its
// sub-tables) as not to be reported unknown: that table could not be decoded to the end.
func brokenServer(src string, header int, broken map[string]bool) {
	lines := strings.Split(src, "\n")
	table := "server"
	for i := header; i > 0 && i < len(lines); i++ {
		if h := tableHeader(lines[i]); h != "" {
			t := strings.Trim(h, "[]")
			if !strings.HasPrefix(t, "server.") {
				return
			}
			table = t
			broken[t] = true
			continue
		}
		t := strings.TrimSpace(lines[i])
		if eq := strings.Index(t, "="); eq > 0 && !strings.HasPrefix(t, "#") {
			broken[table+"."+strings.Trim(strings.TrimSpace(t[:eq]), `"'`)] = true
		}
	}
}
