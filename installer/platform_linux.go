//go:build linux

package installer

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func newManager(c Config) Manager { return &systemd{cfg: c, root: "/", run: execRunner} }

// Interactive reports whether omniagent runs from a terminal rather than a service manager
// (underSystemd says how it is told).
func Interactive() bool {
	ppid := os.Getppid()
	parent := func() string {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm")
		return strings.TrimSpace(string(b))
	}
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	return !underSystemd(ppid, parent, os.Getenv("INVOCATION_ID"), err == nil)
}
