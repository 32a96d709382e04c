//go:build !windows && !darwin

package installer

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/omniagent/omniagent/agent"
)

func TestJournalWriterPrefixes(t *testing.T) {
	tests := []struct {
		name  string
		level *slog.Level
		in    string
		want  string
	}{
		{"debug", lv(slog.LevelDebug), "time=x level=DEBUG msg=a\n", "<7>time=x level=DEBUG msg=a\n"},
		{"info", lv(slog.LevelInfo), "msg=a\n", "<6>msg=a\n"},
		{"warn", lv(slog.LevelWarn), "msg=a\n", "<4>msg=a\n"},
		{"warn+2", lv(slog.LevelWarn + 2), "msg=a\n", "<4>msg=a\n"},
		{"error", lv(slog.LevelError), "msg=a\n", "<3>msg=a\n"},
		{"multi-line", lv(slog.LevelWarn), "a\nb\n", "<4>a\n<4>b\n"},
		{"no newline", lv(slog.LevelInfo), "a", "<6>a"},
		{"empty", lv(slog.LevelInfo), "", ""},
		{"plain write is an error", nil, "omniagent: config: bad\n", "<3>omniagent: config: bad\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			j := &journalWriter{w: &b}
			var n int
			var err error
			if tc.level == nil {
				n, err = j.Write([]byte(tc.in))
			} else {
				n, err = j.WriteLevel(*tc.level, []byte(tc.in))
			}
			if err != nil || n != len(tc.in) {
				t.Fatalf("n=%d err=%v", n, err)
			}
			if b.String() != tc.want {
				t.Fatalf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func lv(l slog.Level) *slog.Level { return &l }

func TestJournalStream(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	match := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	tests := []struct {
		env  string
		want bool
	}{
		{match, true},
		{"", false},
		{fmt.Sprintf("%d:%d", st.Dev, st.Ino+1), false},
		{"garbage", false},
	}
	for _, tc := range tests {
		if got := journalStream(f, tc.env); got != tc.want {
			t.Errorf("JOURNAL_STREAM=%q: %v, want %v", tc.env, got, tc.want)
		}
	}
}

// Outside systemd (no JOURNAL_STREAM), the service log is stderr unchanged.
func TestServiceLogWriterWithoutJournal(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "")
	w, err := ServiceLogWriter()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.(*journalWriter); ok {
		t.Fatal("journal prefixes without JOURNAL_STREAM")
	}
}

// The agent's logger writes through the journal writer with each record's priority.
func TestJournalWriterWithAgentLogger(t *testing.T) {
	var b bytes.Buffer
	log, err := agent.NewLogger(&journalWriter{w: &b}, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("started")
	log.Warn("job interrupted", "job", 1)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "<6>time=") || !strings.HasPrefix(lines[1], "<4>time=") {
		t.Fatalf("got %q", b.String())
	}
}
