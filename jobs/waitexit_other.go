//go:build !linux

package jobs

// waitNoReap says waitExit really waits.
const waitNoReap = false

// waitExit is a no-op where waitid(WNOWAIT) is not available: the group is killed right after
// the child is reaped instead.
func waitExit(int) {}
