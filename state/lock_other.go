//go:build !unix && !windows

package state

import "os"

// lockFile: no OS lock on this platform; a second agent is not detected.
func lockFile(*os.File) (held bool, err error) { return false, nil }
