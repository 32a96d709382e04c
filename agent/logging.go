package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// LevelWriter is a log destination that wants each record's level with its bytes: the systemd
// journal reads a "<N>" syslog priority prefix off each line of a service's stderr, so
// `journalctl -p warning` finds the agent's warnings (installer.ServiceLogWriter).
type LevelWriter interface {
	io.Writer
	WriteLevel(level slog.Level, p []byte) (int, error)
}

// NewLogger builds the process logger: text or JSON, at the given level. When w is a
// LevelWriter, every record is written with its level.
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
	return slog.New(h), nil
}

// levelPipe hands the inner handler's single write per record to the LevelWriter with the
// level levelHandler set just before.
type levelPipe struct {
	lw    LevelWriter
	level slog.Level
}

func (p *levelPipe) Write(b []byte) (int, error) { return p.lw.WriteLevel(p.level, b) }

// levelHandler sets the pipe's level for the duration of one record. The mutex is shared by
// every handler derived through WithAttrs/WithGroup, which share the pipe.
type levelHandler struct {
	mu   *sync.Mutex
	pipe *levelPipe
	h    slog.Handler
}

func (l *levelHandler) Enabled(ctx context.Context, lv slog.Level) bool { return l.h.Enabled(ctx, lv) }

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pipe.level = r.Level
	return l.h.Handle(ctx, r)
}

func (l *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{mu: l.mu, pipe: l.pipe, h: l.h.WithAttrs(as)}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{mu: l.mu, pipe: l.pipe, h: l.h.WithGroup(name)}
}
