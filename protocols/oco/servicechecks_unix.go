//go:build !windows

package oco

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkArgv runs an executable file directly.
func checkArgv(path string) ([]string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return nil, errors.New("not an executable file")
	}
	return []string{path}, nil
}

// checkOwner refuses what a non-root user could change: a check (or its folder) must be
// owned by root and writable by no one else (group write only for group root).
func checkOwner(path string, isDir bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if isDir && !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("cannot read the owner")
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid != 0:
		return fmt.Errorf("owned by uid %d, not root", st.Uid)
	case perm&0o002 != 0:
		return fmt.Errorf("world-writable (mode %04o)", perm)
	case perm&0o020 != 0 && st.Gid != 0:
		return fmt.Errorf("writable by group %d (mode %04o)", st.Gid, perm)
	}
	return nil
}
