//go:build !linux && !darwin && !windows

package jobs

// sessionMembers is not implemented here: only the shell's process group is killed.
func sessionMembers(sid int) []int { return nil }
