//go:build !windows

package selfupdate

import (
	"fmt"
	"os"
	"syscall"
)

// Restart replaces this process with exe (same pid, so a service manager keeps tracking it).
func Restart(exe string, args []string) error {
	err := syscall.Exec(exe, append([]string{exe}, args...), os.Environ())
	return fmt.Errorf("selfupdate: re-exec %s: %w", exe, err)
}
