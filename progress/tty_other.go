//go:build !linux && !darwin && !windows

package progress

import "os"

// IsTerminal is false where the terminal cannot be checked: progress goes to the log.
func IsTerminal(*os.File) (bool, int) { return false, 0 }
