package collectors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// listeningTCP maps socket inodes to their listening TCP ports. It asks the kernel over
// NETLINK_SOCK_DIAG for listening sockets only: reading /proc/net/tcp{,6} walks the whole
// connection hash table (about 5 ms here even with a dozen sockets). /proc is the fallback.
func listeningTCP(proc string) map[string]int {
	out := map[string]int{}
	var err error
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err = sockDiagListen(fam, out); err != nil {
			break
		}
	}
	if err == nil {
		return out
	}
	return listeningPorts(readStr(filepath.Join(proc, "net/tcp")), readStr(filepath.Join(proc, "net/tcp6")))
}

func sockDiagListen(family uint8, out map[string]int) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(time.Second))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	// nlmsghdr + inet_diag_req_v2 (family, protocol, ext, pad, states, 48-byte sockid).
	req := make([]byte, unix.NLMSG_HDRLEN+56)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1)
	r := req[unix.NLMSG_HDRLEN:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(r[4:], 1<<10) // TCP_LISTEN
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag send: %w", err)
	}
	buf := make([]byte, 32<<10)
	for range 10000 {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("sock_diag parse: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				return errors.New("sock_diag: error reply")
			case unix.SOCK_DIAG_BY_FAMILY:
				// inet_diag_msg: family, state, timer, retrans, sockid (sport big-endian
				// first), expires, rqueue, wqueue, uid, inode at 68.
				if len(m.Data) >= 72 {
					port := int(binary.BigEndian.Uint16(m.Data[4:]))
					inode := binary.NativeEndian.Uint32(m.Data[68:])
					out[strconv.FormatUint(uint64(inode), 10)] = port
				}
			}
		}
	}
	return errors.New("sock_diag: dump did not end")
}
