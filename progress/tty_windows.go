package progress

import (
	"os"

	"golang.org/x/sys/windows"
)

// IsTerminal reports whether f is a console that understands ANSI escapes (it turns virtual
// terminal processing on), and its width in columns.
func IsTerminal(f *os.File) (bool, int) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false, 0
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING == 0 {
		if err := windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING); err != nil {
			return false, 0 // an old console: plain log lines instead
		}
	}
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(h, &info); err != nil {
		return true, 80
	}
	return true, int(info.Window.Right - info.Window.Left + 1)
}
