//go:build !linux && !darwin && !windows

package installer

import "os"

// newManager is not reached: ServiceConfig refuses the systems this file builds for.
func newManager(Config) Manager { return nil }

// Interactive: a daemon started by init has PID 1 as its parent.
func Interactive() bool { return os.Getppid() != 1 }
