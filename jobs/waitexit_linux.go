package jobs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// waitNoReap says waitExit really waits.
const waitNoReap = true

// waitExit blocks until pid has exited without reaping it: while it is a zombie its pid (and
// so its process group / session id) cannot be reused, so killing the group is safe.
func waitExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
