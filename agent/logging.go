package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// NewLogger builds the process logger: text or JSON, at the given level. Identical warnings
// repeated within a minute are folded into one line with a count. When w is a LevelWriter
// (the journal), every record is written with its level.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	lw, leveled := w.(LevelWriter)
	var pipe *levelPipe
	if leveled {
		pipe = &levelPipe{lw: lw}
		w = pipe
	}
	var h slog.Handler
	switch format {
	case "", "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	if leveled {
		h = &levelHandler{mu: &sync.Mutex{}, pipe: pipe, h: h}
	}
	return slog.New(NewFoldHandler(h, time.Minute, nil)), nil
}

// maxFolded bounds the warnings remembered; past it they are forgotten (and logged again).
const maxFolded = 1024

// foldHandler passes every record on, except a warning (or error) identical to one logged less
// than window ago (same message and text attributes; numbers and durations may differ): that
// one is only counted. Once the window has passed, the next record of
// any kind first brings out one line with the warning and `repeated=N`, so a burst that stops
// still shows how big it was.
type foldHandler struct {
	next   slog.Handler
	st     *foldState
	prefix string // attributes and groups added by With: part of the identity of a record
}

type foldState struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	seen   map[string]*folded
}

type folded struct {
	first      time.Time
	suppressed int
	rec        slog.Record // the first one, to report the count with
	h          slog.Handler
}

// NewFoldHandler wraps next; now is the clock (nil: the record's time).
func NewFoldHandler(next slog.Handler, window time.Duration, now func() time.Time) slog.Handler {
	return &foldHandler{next: next, st: &foldState{window: window, now: now, seen: map[string]*folded{}}}
}

func (h *foldHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *foldHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range as {
		b.WriteString(a.String() + " ")
	}
	return &foldHandler{next: h.next.WithAttrs(as), st: h.st, prefix: h.prefix + b.String()}
}

func (h *foldHandler) WithGroup(name string) slog.Handler {
	return &foldHandler{next: h.next.WithGroup(name), st: h.st, prefix: h.prefix + name + "."}
}

func (h *foldHandler) Handle(ctx context.Context, r slog.Record) error {
	now := r.Time
	if h.st.now != nil {
		now = h.st.now()
	}
	due := h.st.expire(now)
	for _, f := range due {
		f.h.Handle(ctx, summary(f, now, h.st.window))
	}
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	var key strings.Builder
	key.WriteString(h.prefix + r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Value.Kind() {
		case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindDuration, slog.KindTime:
			// Counters and delays ("failures=3 retry_in=4m") change at every repeat of the
			// same problem; the text (message, error, names) says whether it is the same.
		default:
			key.WriteString(" " + a.String())
		}
		return true
	})
	k := key.String()
	h.st.mu.Lock()
	if f, ok := h.st.seen[k]; ok && now.Sub(f.first) < h.st.window {
		f.suppressed++
		h.st.mu.Unlock()
		return nil
	}
	if len(h.st.seen) >= maxFolded {
		clear(h.st.seen)
	}
	h.st.seen[k] = &folded{first: now, rec: r.Clone(), h: h.next}
	h.st.mu.Unlock()
	return h.next.Handle(ctx, r)
}

// expire forgets the warnings whose window has passed and returns those with a count to report.
func (st *foldState) expire(now time.Time) []*folded {
	st.mu.Lock()
	defer st.mu.Unlock()
	var due []*folded
	for k, f := range st.seen {
		if now.Sub(f.first) >= st.window {
			delete(st.seen, k)
			if f.suppressed > 0 {
				due = append(due, f)
			}
		}
	}
	return due
}

// summary is the folded warning again, with how many times it came back within the window.
func summary(f *folded, now time.Time, window time.Duration) slog.Record {
	r := slog.NewRecord(now, f.rec.Level, f.rec.Message, f.rec.PC)
	f.rec.Attrs(func(a slog.Attr) bool { r.AddAttrs(a); return true })
	r.AddAttrs(slog.Int("repeated", f.suppressed), slog.Duration("within", window))
	return r
}
