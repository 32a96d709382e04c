package collectors

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// MountEntry is one /proc/self/mountinfo line.
type MountEntry struct {
	MajMin     string
	Root       string
	Mountpoint string
	Options    string
	FSType     string
	Source     string
	SuperOpts  string
}

// ParseMountinfo decodes /proc/*/mountinfo, skipping malformed lines.
func ParseMountinfo(b []byte) []MountEntry {
	var out []MountEntry
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+3 {
			continue
		}
		m := MountEntry{MajMin: f[2], Root: unescapeMount(f[3]), Mountpoint: unescapeMount(f[4]), Options: f[5],
			FSType: f[sep+1], Source: unescapeMount(f[sep+2])}
		if len(f) > sep+3 {
			m.SuperOpts = f[sep+3]
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount decodes the octal escapes (\040 for space) the kernel writes in mount fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isPseudoFS reports kernel and virtual filesystems that are not storage (overlay is
// judged by its source). A switch, not a map literal: no code runs at start.
func isPseudoFS(fs string) bool {
	switch fs {
	case "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
		"pstore", "bpf", "configfs", "fusectl", "hugetlbfs", "autofs", "binfmt_misc", "rpc_pipefs",
		"nsfs", "efivarfs", "selinuxfs", "devtmpfs", "tmpfs", "ramfs", "squashfs", "fuse.gvfsd-fuse",
		"fuse.portal", "nfsd", "none", "fuse.lxcfs", "binder":
		return true
	}
	return false
}

// isNetworkFS reports network filesystems.
func isNetworkFS(fs string) bool {
	switch fs {
	case "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph", "glusterfs",
		"fuse.glusterfs", "davfs", "fuse.rclone", "lustre", "gpfs":
		return true
	}
	return false
}

// IsRealMount says whether a mount is storage worth reporting: a block device, a network
// share, or an overlay root; not the kernel's pseudo filesystems.
func IsRealMount(m MountEntry) bool {
	if isPseudoFS(m.FSType) {
		return false
	}
	return strings.HasPrefix(m.Source, "/dev/") || isNetworkFS(m.FSType) || m.FSType == "overlay" ||
		m.FSType == "zfs" || m.FSType == "btrfs" || strings.HasPrefix(m.FSType, "fuse.")
}

func collectVolumes(ctx context.Context, inv *inventory.Inventory) error {
	b, err := readFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	labels := devLinks("/dev/disk/by-label")
	uuids := devLinks("/dev/disk/by-uuid")
	var errs []string
	for _, m := range ParseMountinfo(b) {
		if !IsRealMount(m) {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		v := inventory.Volume{Device: m.Source, Mountpoint: m.Mountpoint, Filesystem: m.FSType,
			Network: isNetworkFS(m.FSType), Options: m.Options}
		for o := range strings.SplitSeq(m.Options, ",") {
			if o == "ro" {
				v.ReadOnly = true
			}
		}
		st, err := statfsBounded(ctx, m.Mountpoint, v.Network)
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			bs := uint64(st.Bsize)
			if st.Frsize > 0 {
				bs = uint64(st.Frsize)
			}
			v.TotalBytes, v.FreeBytes = st.Blocks*bs, st.Bavail*bs
			if st.Blocks >= st.Bfree {
				v.UsedBytes = (st.Blocks - st.Bfree) * bs // df's Used
			}
		}
		kname, parent := blockNames(m.MajMin)
		v.Disk = parent
		if kname != "" {
			v.Label, v.Serial = labels[kname], uuids[kname]
			v.Encryption = dmCrypt(kname)
			if v.Serial == "" && v.Label == "" {
				v.Label, v.Serial = extSuperblock(m.Source)
			}
		}
		if kname != "" || v.Encryption != "" {
			enc := v.Encryption != ""
			v.Encrypted = &enc
		}
		inv.Volumes = append(inv.Volumes, v)
	}
	if len(errs) > 0 {
		return fmt.Errorf("statfs: %s", strings.Join(errs, "; "))
	}
	return nil
}

// statfsBounded runs statfs; for network mounts in a goroutine under a deadline, since a dead
// NFS server blocks the call forever.
func statfsBounded(ctx context.Context, path string, network bool) (*unix.Statfs_t, error) {
	var st unix.Statfs_t
	if !network {
		if err := unix.Statfs(path, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &st, nil
	}
	done := make(chan error, 1)
	var res unix.Statfs_t
	go func() { done <- unix.Statfs(path, &res) }()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &res, nil
	case <-t.C:
		return nil, fmt.Errorf("%s: not answering", path)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", path, ctx.Err())
	}
}

// devLinks maps kernel block names to the link names in a /dev/disk/by-* directory.
func devLinks(dir string) map[string]string {
	out := map[string]string{}
	entries, err := readDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		t, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		out[filepath.Base(t)] = unescapeUdev(e.Name())
	}
	return out
}

// unescapeUdev decodes udev's \x20 escapes in by-label names.
func unescapeUdev(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// blockNames resolves "maj:min" to the kernel block name and its parent disk.
func blockNames(majmin string) (name, parent string) {
	p, err := filepath.EvalSymlinks(filepath.Join("/sys/dev/block", majmin))
	if err != nil {
		return "", ""
	}
	name = filepath.Base(p)
	if fileExists(filepath.Join(p, "partition")) {
		return name, filepath.Base(filepath.Dir(p))
	}
	if slaves, _ := readDir(filepath.Join(p, "slaves")); len(slaves) > 0 {
		_, par := blockNames(readStr(filepath.Join(p, "slaves", slaves[0].Name(), "dev")))
		if par == "" {
			par = slaves[0].Name()
		}
		return name, par
	}
	return name, name
}

// dmCrypt names the encryption of a device-mapper device or anything it sits on ("LUKS2",
// "LUKS1", "dm-crypt"); "" when none.
func dmCrypt(kname string) string {
	return dmCryptDepth(kname, 0)
}

func dmCryptDepth(kname string, depth int) string {
	if depth > 8 {
		return ""
	}
	dir := filepath.Join("/sys/class/block", kname)
	if uuid := readStr(filepath.Join(dir, "dm", "uuid")); strings.HasPrefix(uuid, "CRYPT-") {
		kind, _, _ := strings.Cut(strings.TrimPrefix(uuid, "CRYPT-"), "-")
		if strings.HasPrefix(kind, "LUKS") {
			return kind
		}
		return "dm-crypt"
	}
	slaves, _ := readDir(filepath.Join(dir, "slaves"))
	for _, s := range slaves {
		if e := dmCryptDepth(s.Name(), depth+1); e != "" {
			return e
		}
	}
	return ""
}

// extSuperblock reads the label and UUID of an ext2/3/4 filesystem from its superblock, for
// systems without udev's /dev/disk links (needs read access to the device).
func extSuperblock(dev string) (label, uuid string) {
	if !strings.HasPrefix(dev, "/dev/") {
		return "", ""
	}
	f, err := os.Open(dev)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return "", ""
	}
	return ParseExtSuperblock(sb)
}

// ParseExtSuperblock decodes the label and UUID of an ext2/3/4 superblock (the 1024 bytes at
// offset 1024).
func ParseExtSuperblock(sb []byte) (label, uuid string) {
	if len(sb) < 0x88 || binary.LittleEndian.Uint16(sb[0x38:]) != 0xef53 {
		return "", ""
	}
	u := sb[0x68:0x78]
	uuid = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	return cString(sb[0x78:0x88]), uuid
}
