package control

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// peerAllowed lets root and the daemon's own user in (SO_PEERCRED).
func peerAllowed(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	return uidAllowed(int(cred.Uid), int(cred.Pid))
}

func uidAllowed(uid, pid int) error {
	if uid == 0 || uid == os.Geteuid() {
		return nil
	}
	return fmt.Errorf("uid %d (pid %d) is neither root nor the daemon's user", uid, pid)
}
