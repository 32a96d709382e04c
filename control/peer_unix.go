//go:build linux || darwin

package control

import (
	"fmt"
	"net"
	"os"
)

// peerAllowed lets root and the daemon's own user in, by the kernel's word on who connected.
func peerAllowed(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var uid, pid int
	var cerr error
	if err := raw.Control(func(fd uintptr) { uid, pid, cerr = peerCred(int(fd)) }); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	return uidAllowed(uid, pid)
}

func uidAllowed(uid, pid int) error {
	if uid == 0 || uid == os.Geteuid() {
		return nil
	}
	return fmt.Errorf("uid %d (pid %d) is neither root nor the daemon's user", uid, pid)
}
