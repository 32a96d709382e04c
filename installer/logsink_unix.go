//go:build !windows && !darwin

package installer

import (
	"io"
	"os"
)

// ServiceLogWriter is where a service run logs: stderr, which systemd sends to journald.
func ServiceLogWriter() (io.WriteCloser, error) { return nopCloser{os.Stderr}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
