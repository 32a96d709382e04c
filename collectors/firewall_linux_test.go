package collectors

import (
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// nlMsg builds one netlink message with an nfgenmsg header and optional attributes.
func nlMsg(typ, flags uint16, seq uint32, family uint8, resID uint16, attrs []byte) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN+4, unix.NLMSG_HDRLEN+4+len(attrs))
	b = append(b, attrs...)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	b[unix.NLMSG_HDRLEN] = family
	binary.BigEndian.PutUint16(b[unix.NLMSG_HDRLEN+2:], resID)
	return b
}

// createNFTable adds an inet table over netlink, as `nft add table inet NAME` does.
func createNFTable(name string) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	val := append([]byte(name), 0)
	attr := make([]byte, 4, 4+len(val)+3)
	binary.NativeEndian.PutUint16(attr[0:], uint16(4+len(val)))
	binary.NativeEndian.PutUint16(attr[2:], 1) // NFTA_TABLE_NAME
	attr = append(attr, val...)
	for len(attr)%4 != 0 {
		attr = append(attr, 0)
	}
	var req []byte
	req = append(req, nlMsg(unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, 1, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES, nil)...)
	req = append(req, nlMsg(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWTABLE, unix.NLM_F_REQUEST|unix.NLM_F_CREATE|unix.NLM_F_ACK, 2, unix.NFPROTO_INET, 0, attr)...)
	req = append(req, nlMsg(unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, 3, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES, nil)...)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	if n >= unix.NLMSG_HDRLEN+4 && binary.NativeEndian.Uint16(buf[4:]) == unix.NLMSG_ERROR {
		if code := int32(binary.NativeEndian.Uint32(buf[unix.NLMSG_HDRLEN:])); code != 0 {
			return unix.Errno(-code)
		}
	}
	return nil
}

// TestNFTablesStateInOwnNamespace: in a network namespace of its own, no table means "off" and
// one table created over netlink means "on" (root only).
func TestNFTablesStateInOwnNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	type result struct {
		before, after int
		err           error
		step          string
	}
	done := make(chan result, 1)
	go func() {
		// The thread moves to a new network namespace and back before the result is sent and
		// the thread unlocked: it may be the main thread, whose namespace /proc/net shows to
		// the whole test binary.
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err, step: "unshare"}
			return
		}
		r := func() (r result) {
			if r.err = unix.Unshare(unix.CLONE_NEWNET); r.err != nil {
				r.step = "unshare"
				return r
			}
			if r.before, r.err = nftTableCount(); r.err != nil {
				r.step = "count before"
				return r
			}
			if r.err = createNFTable("omniagent_test"); r.err != nil {
				r.step = "create table"
				return r
			}
			r.after, r.err = nftTableCount()
			r.step = "count after"
			return r
		}()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread() // else the thread stays locked and Go ends it
		}
		unix.Close(orig)
		done <- r
	}()
	r := <-done
	if r.err != nil {
		if r.step == "unshare" || r.step == "create table" {
			t.Skipf("%s: %v (no netns or nf_tables here)", r.step, r.err)
		}
		t.Fatalf("%s: %v", r.step, r.err)
	}
	if r.before != 0 || r.after != 1 {
		t.Errorf("tables before %d, after %d; want 0 then 1", r.before, r.after)
	}
}
