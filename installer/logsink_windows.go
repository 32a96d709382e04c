//go:build windows

package installer

import (
	"bytes"
	"fmt"
	"io"

	"golang.org/x/sys/windows/svc/eventlog"

	"github.com/omniagent/omniagent/packaging"
)

// ServiceLogWriter is where an SCM run logs: the Windows Event Log (source registered by
// install). Lines mentioning level=ERROR/WARN become error/warning events.
func ServiceLogWriter() (io.WriteCloser, error) {
	l, err := eventlog.Open(packaging.ServiceName)
	if err != nil {
		return nil, fmt.Errorf("installer: open event log: %w", err)
	}
	return eventWriter{l}, nil
}

type eventWriter struct{ l *eventlog.Log }

func (w eventWriter) Write(p []byte) (int, error) {
	msg := string(bytes.TrimRight(p, "\r\n"))
	var err error
	switch {
	case bytes.Contains(p, []byte("level=ERROR")), bytes.Contains(p, []byte(`"level":"ERROR"`)):
		err = w.l.Error(3, msg)
	case bytes.Contains(p, []byte("level=WARN")), bytes.Contains(p, []byte(`"level":"WARN"`)):
		err = w.l.Warning(2, msg)
	default:
		err = w.l.Info(1, msg)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w eventWriter) Close() error { return w.l.Close() }
