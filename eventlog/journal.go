package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// JournalLog is the only log name served on Linux.
const JournalLog = "journalctl"

// maxJournalLine bounds one JSON entry; longer ones (huge binary fields) are skipped.
const maxJournalLine = 1 << 20

// JournalFilter is the OCO JSON filter: comma lists are OR-matches on one field; fields AND.
type JournalFilter struct {
	Units       []string
	Identifiers []string
	Priorities  []string
	Grep        *regexp.Regexp
}

// ParseJournalFilter decodes {"unit":"a,b","identifier":"sshd","priority":"0,1","grep":"re"}.
// Values may be strings or numbers; unknown members are ignored, as the reference agent does.
func ParseJournalFilter(s string) (JournalFilter, error) {
	var f JournalFilter
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return f, fmt.Errorf("journal filter %q is not a JSON object: %w", s, err)
	}
	list := func(key string) ([]string, error) {
		v, ok := raw[key]
		if !ok || v == nil {
			return nil, nil
		}
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("journal filter: %q must be a string, got %T", key, v)
		}
		var out []string
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var err error
	if f.Units, err = list("unit"); err != nil {
		return f, err
	}
	for i, u := range f.Units {
		if !strings.Contains(u, ".") {
			f.Units[i] = u + ".service" // what `journalctl -u ssh` means too
		}
	}
	if f.Identifiers, err = list("identifier"); err != nil {
		return f, err
	}
	if f.Priorities, err = list("priority"); err != nil {
		return f, err
	}
	for _, p := range f.Priorities {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 7 {
			return f, fmt.Errorf("journal filter: priority %q is not 0-7", p)
		}
	}
	if g, ok := raw["grep"].(string); ok && g != "" {
		re, err := regexp.Compile(g)
		if err != nil {
			return f, fmt.Errorf("journal filter: grep %q: %w", g, err)
		}
		f.Grep = re
	}
	return f, nil
}

// Matches are the journalctl match arguments of the filter (same field OR, fields AND).
func (f JournalFilter) Matches() []string {
	var out []string
	for _, u := range f.Units {
		out = append(out, "_SYSTEMD_UNIT="+u)
	}
	for _, i := range f.Identifiers {
		out = append(out, "SYSLOG_IDENTIFIER="+i)
	}
	for _, p := range f.Priorities {
		out = append(out, "PRIORITY="+p)
	}
	return out
}

// ParseJournal reads `journalctl --output=json` lines from r and keeps entries after since
// that match f (the field matches are re-checked here, so a journalctl that ignored one does
// not widen the result), at most limit of them. It returns early once limit is reached.
func ParseJournal(r io.Reader, f JournalFilter, since time.Time, limit int) ([]Event, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Event
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			if ev, ok := parseEntry(line, f, since); ok {
				out = append(out, ev)
				if limit > 0 && len(out) >= limit {
					return out, nil
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read journal output: %w", err)
		}
	}
}

// readLine returns one line, or nothing for a line over maxJournalLine (skipped whole).
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxJournalLine {
				tooLong, buf = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, err
		}
		return bytes.TrimSpace(buf), err
	}
}

func parseEntry(line []byte, f JournalFilter, since time.Time) (Event, bool) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(line, &raw) != nil {
		return Event{}, false
	}
	field := func(k string) string { return journalValue(raw[k]) }
	us, err := strconv.ParseInt(field("__REALTIME_TIMESTAMP"), 10, 64)
	if err != nil {
		return Event{}, false
	}
	ts := time.UnixMicro(us).UTC()
	if !ts.After(since) {
		return Event{}, false
	}
	unit, ident, prio, msg := field("_SYSTEMD_UNIT"), field("SYSLOG_IDENTIFIER"), field("PRIORITY"), field("MESSAGE")
	if !oneOf(unit, f.Units) || !oneOf(ident, f.Identifiers) || !oneOf(prio, f.Priorities) {
		return Event{}, false
	}
	if f.Grep != nil && !f.Grep.MatchString(msg) {
		return Event{}, false
	}
	ev := Event{Log: unit, Provider: ident, Timestamp: ts, Data: map[string]string{"message": msg}}
	if ev.Log == "" {
		ev.Log = JournalLog
	}
	if n, err := strconv.Atoi(field("SYSLOG_FACILITY")); err == nil {
		ev.EventID = intPtr(n)
	}
	if n, err := strconv.Atoi(prio); err == nil {
		ev.Level = intPtr(n)
	}
	return ev, true
}

func oneOf(v string, set []string) bool {
	if len(set) == 0 {
		return true
	}
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// journalValue decodes a journal JSON field: a string, an array of bytes (non-UTF-8 data), or
// an array of values when the field repeats (the first is kept).
func journalValue(m json.RawMessage) string {
	if len(m) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	var arr []json.RawMessage
	if json.Unmarshal(m, &arr) != nil || len(arr) == 0 {
		return ""
	}
	var b []byte
	for _, e := range arr {
		var n int
		if json.Unmarshal(e, &n) != nil || n < 0 || n > 255 {
			return journalValue(arr[0]) // repeated field
		}
		b = append(b, byte(n))
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
