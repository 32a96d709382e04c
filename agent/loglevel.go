package agent

import (
	"context"
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
