package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal, and its width in columns.
func IsTerminal(f *os.File) (bool, int) {
	// A terminal is a character device: a file, pipe or socket (the journal's) is told apart
	// by a stat, without the ioctl code.
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false, 0
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return false, 0
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return true, 80
	}
	return true, int(ws.Col)
}
