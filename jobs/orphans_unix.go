//go:build unix

package jobs

import (
	"errors"
	"syscall"
)

// killOrphan kills the recorded group when it is still ours. A live leader must have the
// recorded start time (else its pid, and so maybe the group id, was reused). A dead leader
// with members left is ours: the kernel does not hand out a number still in use as a group id.
func killOrphan(rec procRecord) (killed bool, why string) {
	start, boot, ok := procIdentity(rec.PGID)
	if ok && boot != rec.Boot {
		return false, "the machine rebooted since"
	}
	if ok && start != rec.Start {
		return false, "its pid now belongs to another process"
	}
	err := syscall.Kill(-rec.PGID, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return false, "no process left in the group"
	}
	if err != nil {
		return false, err.Error()
	}
	return true, ""
}
