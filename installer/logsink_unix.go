//go:build !windows && !darwin

package installer

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
)

// ServiceLogWriter is where a service run logs: stderr, which systemd sends to journald. When
// stderr is the journal stream systemd set up (JOURNAL_STREAM), each line carries its syslog
// priority as a "<N>" prefix, which journald reads (SyslogLevelPrefix=yes, its default): without
// it every line would be stored at the stream's default priority, info, and
// `journalctl -p warning` would miss the agent's warnings and errors.
func ServiceLogWriter() (io.WriteCloser, error) {
	if journalStream(os.Stderr, os.Getenv("JOURNAL_STREAM")) {
		return &journalWriter{w: os.Stderr}, nil
	}
	return nopCloser{os.Stderr}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// journalStream tells whether f is the stream JOURNAL_STREAM ("device:inode") names, as
// systemd.exec(5) says to check: a service whose stderr was redirected elsewhere must not get
// the prefixes.
func journalStream(f *os.File, env string) bool {
	if env == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino) == env
}

// journalWriter writes log records with their syslog priority prefix (agent.LevelWriter).
type journalWriter struct{ w io.Writer }

// Write is used for what is written outside the logger: under a service, the error that makes
// the agent exit (fail), so it is stored at error priority.
func (j *journalWriter) Write(p []byte) (int, error) { return j.write("<3>", p) }

// WriteLevel writes one record at its level's priority.
func (j *journalWriter) WriteLevel(l slog.Level, p []byte) (int, error) {
	return j.write(journalPriority(l), p)
}

func (j *journalWriter) Close() error { return nil }

// write prefixes every line of p (a record is one line; a multi-line write keeps its priority
// on each line) and writes it in one call.
func (j *journalWriter) write(prefix string, p []byte) (int, error) {
	out := make([]byte, 0, len(p)+8)
	start := true
	for _, c := range p {
		if start {
			out = append(out, prefix...)
			start = false
		}
		out = append(out, c)
		if c == '\n' {
			start = true
		}
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// journalPriority maps slog levels to syslog priorities: error 3, warning 4, info 6, debug 7.
func journalPriority(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "<3>"
	case l >= slog.LevelWarn:
		return "<4>"
	case l >= slog.LevelInfo:
		return "<6>"
	default:
		return "<7>"
	}
}
