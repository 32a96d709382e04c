package jobs

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// procIdentity is pid's start time and the boot time; ok is false when pid does not exist.
func procIdentity(pid int) (start, boot string, ok bool) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return "", "", false
	}
	st := kp.Proc.P_starttime
	bt, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return "", "", false
	}
	return strconv.FormatInt(int64(st.Sec), 10) + "." + strconv.FormatInt(int64(st.Usec), 10),
		strconv.FormatInt(int64(bt.Sec), 10), true
}
