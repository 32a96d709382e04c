package collectors

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// clockTicks is USER_HZ, fixed at 100 by the Linux user-space ABI on every architecture we
// build for.
const clockTicks = 100

// collectProcessesLinux reads /proc directly: two reads and a stat per process, several
// times cheaper than gopsutil's per-field calls.
func collectProcessesLinux(ctx context.Context, inv *inventory.Inventory) error {
	entries, err := readDir("/proc")
	if err != nil {
		return err
	}
	users := map[string]string{}
	if pw, err := readFile("/etc/passwd"); err == nil {
		for line := range strings.Lines(string(pw)) {
			f := strings.SplitN(line, ":", 4)
			if len(f) >= 3 {
				users[f[2]] = f[0]
			}
		}
	}
	boot := bootTime(readStr("/proc/stat"))
	var uptime float64
	if f := strings.Fields(readStr("/proc/uptime")); len(f) > 0 {
		uptime, _ = strconv.ParseFloat(f[0], 64)
	}
	page := uint64(os.Getpagesize())
	memTotal := memTotalBytes(readStr("/proc/meminfo"))
	buf := make([]byte, 0, 4096) // reused for every process's stat and cmdline
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dir := filepath.Join("/proc", e.Name())
		stat, err := readProcFile(filepath.Join(dir, "stat"), buf[:0])
		if err != nil {
			continue // exited meanwhile
		}
		p, ok := ParseProcStat(stat)
		if !ok {
			continue
		}
		pr := inventory.Process{PID: int32(pid), PPID: p.ppid, Name: p.comm, MemBytes: p.rss * page, VirtBytes: p.vsize}
		if fi, err := os.Stat(dir); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				uid := strconv.FormatUint(uint64(st.Uid), 10)
				pr.User = users[uid]
				if pr.User == "" {
					pr.User = uid
				}
			}
		}
		// A kernel thread has no command line to read: most of a server's processes, three
		// syscalls each.
		if p.flags&pfKthread == 0 {
			if cl, err := readProcFile(filepath.Join(dir, "cmdline"), buf[:0]); err == nil {
				pr.Command = truncate(strings.TrimSpace(string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '}))), maxCommandLen)
			}
		}
		startSec := float64(p.start) / clockTicks
		if !boot.IsZero() {
			pr.Started = boot.Add(time.Duration(startSec * float64(time.Second))).Truncate(time.Second)
		}
		if life := uptime - startSec; life > 0 {
			pr.CPUPercent = float64(p.utime+p.stime) / clockTicks / life * 100
		}
		if memTotal > 0 {
			pr.MemPercent = float64(pr.MemBytes) / float64(memTotal) * 100
		}
		if p.tty != 0 {
			pr.TTY = ttyName(p.tty)
		}
		inv.Processes = append(inv.Processes, pr)
	}
	return nil
}

// pfKthread is the kernel's PF_KTHREAD process flag.
const pfKthread = 0x00200000

// memTotalBytes reads MemTotal (kB) from /proc/meminfo.
func memTotalBytes(meminfo string) uint64 {
	for line := range strings.Lines(meminfo) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

type procStat struct {
	comm                       string
	ppid                       int32
	flags                      uint64 // PF_* (field 9)
	tty                        uint64
	utime, stime, start, vsize uint64
	rss                        uint64
}

// ParseProcStat decodes /proc/<pid>/stat; the command name is in parentheses and may itself
// contain spaces and parentheses, so fields are counted from the last ')'.
func ParseProcStat(b []byte) (procStat, bool) {
	var p procStat
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return p, false
	}
	p.comm = string(b[open+1 : end])
	// The fields after the name, split in place (f[0] is field 3, state): no string or
	// slice per process.
	var f [22][]byte
	n := 0
	for rest := b[end+1:]; n < len(f); n++ {
		rest = bytes.TrimLeft(rest, " \t\n")
		if len(rest) == 0 {
			break
		}
		i := bytes.IndexAny(rest, " \t\n")
		if i < 0 {
			i = len(rest)
		}
		f[n], rest = rest[:i], rest[i:]
	}
	if n < len(f) {
		return p, false
	}
	u := func(i int) uint64 { n, _ := strconv.ParseUint(string(f[i-3]), 10, 64); return n }
	pp, _ := strconv.ParseInt(string(f[1]), 10, 32)
	p.ppid = int32(pp)
	p.tty = u(7)
	p.flags = u(9)
	p.utime, p.stime, p.start, p.vsize = u(14), u(15), u(22), u(23)
	if rss, err := strconv.ParseInt(string(f[24-3]), 10, 64); err == nil && rss > 0 {
		p.rss = uint64(rss)
	}
	return p, true
}

// ttyName names a tty device number: pts/N or ttyN.
func ttyName(dev uint64) string {
	major, minor := (dev>>8)&0xfff, (dev&0xff)|((dev>>12)&0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.FormatUint((major-136)*256+minor, 10)
	case major == 4 && minor < 64:
		return "tty" + strconv.FormatUint(minor, 10)
	case major == 4:
		return "ttyS" + strconv.FormatUint(minor-64, 10)
	}
	return ""
}
