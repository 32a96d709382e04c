//go:build darwin

package installer

import "io"

// ServiceLogWriter is where a launchd run logs: a rotating file under /Library/Logs/omniagent.
func ServiceLogWriter() (io.WriteCloser, error) {
	return &RotatingFile{Path: "/Library/Logs/omniagent/omniagent.log", MaxBytes: 10 << 20, Keep: 5}, nil
}
