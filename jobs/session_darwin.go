package jobs

import "golang.org/x/sys/unix"

// sessionMembers lists the processes of session sid (see session_linux.go for why).
func sessionMembers(sid int) []int {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil
	}
	var pids []int
	for _, p := range procs {
		pid := int(p.Proc.P_pid)
		if pid <= 0 {
			continue
		}
		if s, err := unix.Getsid(pid); err == nil && s == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}
