//go:build !windows

package glpi

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// freeBytes is the space available to unprivileged users at path.
func freeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
