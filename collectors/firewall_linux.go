package collectors

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// collectFirewalls reports each Linux firewall layer found and whether it is on, never the
// rules: ufw (its ENABLED switch), firewalld (its daemon running), nftables (tables loaded in
// the kernel, asked over netlink rather than by running nft) and legacy iptables (tables
// loaded, /proc/net/ip_tables_names).
func collectFirewalls(ctx context.Context, inv *inventory.Inventory) error {
	if kv := readKV("/etc/ufw/ufw.conf"); kv != nil {
		inv.Firewalls = append(inv.Firewalls, inventory.Firewall{Profile: "ufw", Backend: "ufw", Status: onOff(strings.EqualFold(kv["ENABLED"], "yes"))})
	}
	if fileExists("/usr/sbin/firewalld") || fileExists("/usr/bin/firewalld") {
		running := len(processesNamed("/proc", "firewalld")) > 0
		inv.Firewalls = append(inv.Firewalls, inventory.Firewall{Profile: "firewalld", Backend: "firewalld", Status: onOff(running)})
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if n, err := nftTableCount(); err == nil {
		inv.Firewalls = append(inv.Firewalls, inventory.Firewall{Profile: "nftables", Backend: "nftables", Status: onOff(n > 0)})
	}
	if names := readStr("/proc/net/ip_tables_names"); names != "" {
		inv.Firewalls = append(inv.Firewalls, inventory.Firewall{Profile: "iptables", Backend: "iptables", Status: "on"})
	}
	return nil
}

// processesNamed returns the pids whose comm (the 15-character process name) is name.
func processesNamed(proc, name string) []string {
	entries, _ := readDir(proc)
	var out []string
	for _, e := range entries {
		if c := e.Name()[0]; c < '0' || c > '9' {
			continue
		}
		if readStr(filepath.Join(proc, e.Name(), "comm")) == name {
			out = append(out, e.Name())
		}
	}
	return out
}

// nftTableCount dumps the nftables tables over NETLINK_NETFILTER and counts them (needs
// CAP_NET_ADMIN; an error otherwise or when nf_tables is not in the kernel).
func nftTableCount() (int, error) {
	const (
		nfnlSubsysNFTables = 10
		nftMsgNewTable     = 0
		nftMsgGetTable     = 1
	)
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return 0, fmt.Errorf("netfilter netlink socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("netfilter netlink bind: %w", err)
	}
	req := make([]byte, unix.NLMSG_HDRLEN+4)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], nfnlSubsysNFTables<<8|nftMsgGetTable)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1) // seq
	req[unix.NLMSG_HDRLEN] = unix.AF_UNSPEC   // nfgenmsg: family, version 0, res_id 0
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("netfilter netlink send: %w", err)
	}
	buf := make([]byte, 32<<10)
	tables := 0
	for range 1000 { // bounded: a dump of a few messages per table
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return 0, fmt.Errorf("netfilter netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return 0, fmt.Errorf("netfilter netlink parse: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return tables, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
						return 0, fmt.Errorf("netfilter netlink: %w", unix.Errno(-code))
					}
				}
			case nfnlSubsysNFTables<<8 | nftMsgNewTable:
				tables++
			}
		}
	}
	return 0, errors.New("netfilter netlink: dump did not end")
}
