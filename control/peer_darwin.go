package control

import "golang.org/x/sys/unix"

// peerCred reads the connecting process's uid (LOCAL_PEERCRED, as getpeereid); no pid.
func peerCred(fd int) (uid, pid int, err error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, 0, err
	}
	return int(cred.Uid), -1, nil
}
