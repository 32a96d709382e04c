//go:build !windows

package installer

import "syscall"

func syscallUmask(m int) int { return syscall.Umask(m) }
