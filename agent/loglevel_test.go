package agent

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// recordingLevelWriter keeps what each write got.
type recordingLevelWriter struct {
	mu     sync.Mutex
	levels []slog.Level
	lines  []string
}

func (r *recordingLevelWriter) Write(p []byte) (int, error) { return r.WriteLevel(slog.Level(99), p) }

func (r *recordingLevelWriter) WriteLevel(l slog.Level, p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.levels = append(r.levels, l)
	r.lines = append(r.lines, string(p))
	return len(p), nil
}

func TestNewLoggerLevelWriter(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			w := &recordingLevelWriter{}
			log, err := NewLogger(w, "debug", format)
			if err != nil {
				t.Fatal(err)
			}
			sub := log.With("server", "oco").WithGroup("g")
			log.Debug("d")
			log.Info("i")
			sub.Warn("w", "k", 1)
			log.Error("e")
			want := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
			if len(w.levels) != len(want) {
				t.Fatalf("%d writes, want %d: %q", len(w.levels), len(want), w.lines)
			}
			for i, l := range want {
				if w.levels[i] != l {
					t.Errorf("write %d (%q): level %v, want %v", i, w.lines[i], w.levels[i], l)
				}
			}
			if !strings.Contains(w.lines[2], "oco") || strings.Count(w.lines[2], "\n") != 1 {
				t.Errorf("the warning is not one line with the logger's attributes: %q", w.lines[2])
			}
		})
	}
}

// A concurrent warning and info each keep their own level.
func TestNewLoggerLevelWriterConcurrent(t *testing.T) {
	w := &recordingLevelWriter{}
	log, err := NewLogger(w, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); log.Warn("warn-line") }()
		go func() { defer wg.Done(); log.With("a", 1).Info("info-line") }()
	}
	wg.Wait()
	for i, line := range w.lines {
		want := slog.LevelInfo
		if strings.Contains(line, "warn-line") {
			want = slog.LevelWarn
		}
		if w.levels[i] != want {
			t.Fatalf("%q written with level %v", line, w.levels[i])
		}
	}
}

// A plain writer gets the records unchanged.
func TestNewLoggerPlainWriter(t *testing.T) {
	var b bytes.Buffer
	log, err := NewLogger(&b, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("hello")
	if !strings.HasPrefix(b.String(), "time=") || !strings.Contains(b.String(), "level=WARN") {
		t.Fatalf("got %q", b.String())
	}
	if _, err := NewLogger(&b, "info", "xml"); err == nil {
		t.Fatal("format xml accepted")
	}
}
