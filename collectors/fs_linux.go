package collectors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// readStr returns a sysfs/procfs file's content trimmed, or "" when unreadable.
func readStr(path string) string {
	var buf [512]byte
	b, err := readProcFile(path, buf[:0])
	if err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		return strings.TrimSpace(string(bytes.ToValidUTF8(b, nil)))
	}
	return string(bytes.TrimSpace(b)) // one copy for the usual valid content
}

// readProcFile appends a small file's content (sysfs, procfs) to buf with open, read and close
// only: os.ReadFile adds an fstat and a netpoller registration attempt to each file, and the
// collectors read thousands of them. A read shorter than the room given ends the file where
// the kernel is known to generate it whole on the first read (wholeOnFirstRead), which saves
// the read that would return 0.
func readProcFile(path string, buf []byte) ([]byte, error) {
	fd, err := openRead(path, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	return readAllFD(fd, path, buf, wholeOnFirstRead(path))
}

// readFile is os.ReadFile without the netpoller registration attempt (two fcntl and an
// epoll_ctl a file, undone for regular files): open, fstat, reads, close.
func readFile(path string) ([]byte, error) {
	fd, err := openRead(path, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	size := 512 // procfs says 0, sysfs 4096: grown as read
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil && st.Size > 0 && st.Size < 1<<30 {
		size = int(st.Size) + 1 // the read at the end of the file fits without growing
	}
	return readAllFD(fd, path, make([]byte, 0, size), 0)
}

// openRead opens path read-only (plus flags, O_DIRECTORY for readDir), retrying on EINTR.
func openRead(path string, flags int) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|flags, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|flags, 0)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// readAllFD appends fd's content to buf until end of file, or until a read shorter than both
// the room given and whole (a file the kernel generates whole on its first read; 0: never).
func readAllFD(fd int, path string, buf []byte, whole int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := cap(buf) - len(buf)
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if n < room && n < whole {
			return buf, nil
		}
	}
}

func readDir(dir string) ([]fs.DirEntry, error) {
	fd, err := openRead(dir, syscall.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var out []fs.DirEntry
	buf := make([]byte, 8<<10)
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		out = appendDirents(out, dir, buf[:n])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// appendDirents decodes linux_dirent64 records (inode 8, offset 8, record length 2, type 1,
// NUL-terminated name), skipping . and ..
func appendDirents(out []fs.DirEntry, dir string, b []byte) []fs.DirEntry {
	for len(b) >= 19 {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < 19 || reclen > len(b) {
			break
		}
		rec := b[:reclen]
		b = b[reclen:]
		name := rec[19:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		out = append(out, dirent{dir: dir, name: string(name), typ: direntType(rec[18])})
	}
	return out
}

func direntType(t byte) fs.FileMode {
	switch t {
	case syscall.DT_DIR:
		return fs.ModeDir
	case syscall.DT_LNK:
		return fs.ModeSymlink
	case syscall.DT_FIFO:
		return fs.ModeNamedPipe
	case syscall.DT_SOCK:
		return fs.ModeSocket
	case syscall.DT_BLK:
		return fs.ModeDevice
	case syscall.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.DT_REG:
		return 0
	}
	return fs.ModeIrregular // DT_UNKNOWN: Type asks lstat
}

// dirent is one readDir entry.
type dirent struct {
	dir, name string
	typ       fs.FileMode
}

func (d dirent) Name() string { return d.name }
func (d dirent) IsDir() bool  { return d.Type().IsDir() }
func (d dirent) Type() fs.FileMode {
	if d.typ == fs.ModeIrregular {
		if fi, err := os.Lstat(filepath.Join(d.dir, d.name)); err == nil {
			return fi.Mode().Type()
		}
		return 0
	}
	return d.typ
}
func (d dirent) Info() (fs.FileInfo, error) { return os.Lstat(filepath.Join(d.dir, d.name)) }
func (d dirent) String() string             { return fs.FormatDirEntry(d) }

// wholeOnFirstRead is the size below which a first read of path returns the whole file, 0
// when nothing is known. A sysfs attribute is one record of at most a page, and a binary one
// is read a page at a time (4 KiB at least); /proc/<pid>/stat, /proc/stat and comm are single
// records, cmdline is copied as asked. Other /proc files are seq_files of many records whose
// reads stop at a page boundary with more to come (/proc/net/route, /proc/bus/input/devices).
func wholeOnFirstRead(path string) int {
	switch {
	case strings.HasPrefix(path, "/sys/"):
		return 4096
	case strings.HasPrefix(path, "/proc/") &&
		(strings.HasSuffix(path, "/stat") || strings.HasSuffix(path, "/cmdline") || strings.HasSuffix(path, "/comm")):
		return math.MaxInt
	}
	return 0
}

// readUint reads a decimal number from a sysfs file; 0 when absent.
func readUint(path string) uint64 {
	n, err := strconv.ParseUint(readStr(path), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// readKV parses KEY=VALUE lines (os-release, uevent, locale files), unquoting values.
func readKV(path string) map[string]string {
	b, err := readFile(path)
	if err != nil {
		return nil
	}
	return parseKV(b)
}

func parseKV(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			q := v[0]
			v = v[1 : len(v)-1]
			if q == '"' {
				// Shell double quotes: only \" \\ \$ \` are escapes.
				v = shellUnescape(v)
			}
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// shellUnescape undoes the backslash escapes of a double-quoted shell value. (A
// strings.Replacer in a package variable would be built at every start of the agent.)
func shellUnescape(v string) string {
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
}

// runTool runs a helper program under a deadline and returns its stdout; used only where no
// file or API has the data (rpm's database, snap, flatpak).
func runTool(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		return nil, fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
