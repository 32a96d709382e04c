//go:build darwin

package installer

import "os"

func newManager(c Config) Manager { return &launchd{cfg: c, root: "/", run: execRunner} }

// Interactive reports whether omniagent runs from a terminal rather than launchd: launchd, PID
// 1, is the parent of the daemons it starts.
func Interactive() bool { return os.Getppid() != 1 }
