package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// collectSoftware reads every package manager present. Databases are read as files; rpm and
// flatpak, whose databases have no stable file format, run their tool under a deadline.
func collectSoftware(ctx context.Context, inv *inventory.Inventory) error {
	var errs []error
	add := func(name string, sw []inventory.Software, err error) {
		if inv.Software == nil {
			inv.Software = sw // a thousand packages: no copy
		} else {
			inv.Software = append(inv.Software, sw...)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if sw, err := dpkgPackages(dpkgStatusPath); err == nil {
		dpkgInstallDates(sw, "/var/lib/dpkg/info")
		add("dpkg", sw, nil)
	} else {
		add("dpkg", nil, err)
	}
	if rpmDatabase("/var/lib/rpm") || rpmDatabase("/usr/lib/sysimage/rpm") {
		out, err := runTool(ctx, 20*time.Second, "rpm", "-qa", "--queryformat", RPMQueryFormat)
		if err == nil {
			add("rpm", ParseRPMQuery(out), nil)
		} else if !errors.Is(err, exec.ErrNotFound) {
			add("rpm", nil, err)
		}
	}
	if b, err := readFile("/lib/apk/db/installed"); err == nil {
		add("apk", ParseApkInstalled(b), nil)
	}
	if fileExists("/var/lib/pacman/local") {
		sw, err := pacmanPackages("/var/lib/pacman/local")
		add("pacman", sw, err)
	}
	if fileExists("/snap") {
		add("snap", snapPackages("/snap"), nil)
	}
	if fileExists("/var/lib/flatpak") {
		out, err := runTool(ctx, 10*time.Second, "flatpak", "list", "--app", "--columns=application,name,version,branch,arch,origin")
		if err == nil {
			add("flatpak", ParseFlatpakList(out), nil)
		} else if !errors.Is(err, exec.ErrNotFound) {
			add("flatpak", nil, err)
		}
	}
	return errors.Join(errs...)
}

const dpkgStatusPath = "/var/lib/dpkg/status"

// dpkgPackages parses the dpkg status file streamed in chunks: a desktop's is a megabyte,
// which would otherwise sit in the heap for the whole collection. A first pass counts the
// paragraphs so that the list is allocated once, at its size: reading the file twice from the
// page cache costs less than first touching an estimated list and then its trimmed copy
// (~190 KiB each for 750 packages, ~100 page faults that took 0.8 ms of CPU on a VM).
func dpkgPackages(path string) ([]inventory.Software, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, dpkgChunk)
	paragraphs := 0
	buf, err = dpkgParagraphsIn(buf, f, func(b []byte) {
		// Chunks start at a paragraph; continuation lines start with a space.
		paragraphs += bytes.Count(b, []byte("\nPackage:"))
		if bytes.HasPrefix(b, []byte("Package:")) {
			paragraphs++
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	p := newDpkgParser()
	p.out = make([]inventory.Software, 0, paragraphs)
	if _, err := dpkgParagraphsIn(buf, f, p.paragraph); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if cap(p.out) == len(p.out) {
		return p.out, nil
	}
	// Removed-but-not-purged packages have a paragraph too (or the file changed between the
	// passes): the list lives in the cached inventory until the next collection, keep only
	// its length.
	out := make([]inventory.Software, len(p.out))
	copy(out, p.out)
	return out, nil
}

// ParseDpkgStatus lists the installed packages of /var/lib/dpkg/status content.
func ParseDpkgStatus(b []byte) []inventory.Software {
	p := newDpkgParser()
	p.paragraph(b)
	return p.out
}

// dpkgParser reads status paragraphs in one pass over the bytes: no map or string per line,
// and the values many packages share (maintainer, section, architecture) are stored once.
// Only the first line of each field is kept.
type dpkgParser struct {
	out    []inventory.Software
	f      dpkgFields
	shared map[string]string
}

func newDpkgParser() *dpkgParser { return &dpkgParser{shared: make(map[string]string, 512)} }

func (p *dpkgParser) intern(v []byte) string {
	switch string(v) { // the usual architectures and Multi-Arch values, without a map lookup
	case "":
		return ""
	case "amd64":
		return "amd64"
	case "all":
		return "all"
	case "arm64":
		return "arm64"
	case "i386":
		return "i386"
	case "same":
		return "same"
	case "foreign":
		return "foreign"
	case "allowed":
		return "allowed"
	}
	if s, ok := p.shared[string(v)]; ok {
		return s
	}
	s := string(v)
	p.shared[s] = s
	return s
}

func (p *dpkgParser) flush() {
	f := &p.f
	defer func() { *f = dpkgFields{} }()
	if len(f.pkg) == 0 {
		return
	}
	if !dpkgInstalled(f.status) {
		return
	}
	s := inventory.Software{Name: string(f.pkg), Version: string(f.version), Arch: p.intern(f.arch),
		Publisher: p.intern(f.maintainer), Comment: string(f.description), URL: p.intern(f.homepage),
		Category: p.intern(f.section), Source: "dpkg", MultiArch: p.intern(f.multiArch)}
	if kb, err := strconv.ParseUint(string(f.size), 10, 64); err == nil {
		s.SizeBytes = kb * 1024
	}
	p.out = append(p.out, s)
}

// paragraph parses whole paragraphs: b ends at a paragraph's end (or the file's).
func (p *dpkgParser) paragraph(b []byte) {
	f := &p.f
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if blankLine(line) {
			p.flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation lines
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch string(k) {
		case "Package":
			f.pkg = v
		case "Status":
			f.status = v
		case "Version":
			f.version = v
		case "Architecture":
			f.arch = v
		case "Maintainer":
			f.maintainer = v
		case "Description":
			f.description = v
		case "Homepage":
			f.homepage = v
		case "Section":
			f.section = v
		case "Multi-Arch":
			f.multiArch = v
		case "Installed-Size":
			f.size = v
		}
	}
	p.flush()
}

// blankLine is len(bytes.TrimSpace(line)) == 0, decided on the first byte for the usual
// field line (a letter).
func blankLine(line []byte) bool {
	if len(line) > 0 {
		if c := line[0]; c < 0x80 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\v' && c != '\f' {
			return false
		}
	}
	return len(bytes.TrimSpace(line)) == 0
}

// dpkgInstalled reads a Status value ("install ok installed"): three words, the last not
// not-installed or config-files. Split by hand: bytes.Fields allocates for every package.
func dpkgInstalled(status []byte) bool {
	var words [3][]byte
	n := 0
	for rest := bytes.TrimSpace(status); len(rest) > 0; n++ {
		if n == len(words) {
			return false
		}
		i := bytes.IndexAny(rest, " \t")
		if i < 0 {
			i = len(rest)
		}
		words[n], rest = rest[:i], bytes.TrimLeft(rest[i:], " \t")
	}
	return n == 3 && string(words[2]) != "not-installed" && string(words[2]) != "config-files"
}

// dpkgFields are the fields of one status paragraph ParseDpkgStatus keeps.
type dpkgFields struct {
	pkg, status, version, arch, maintainer, description, homepage, section, multiArch, size []byte
}

// dpkgInstallDates uses the mtime of each package's file list, written at install/upgrade:
// one fstatat per package relative to the open info folder. Only "Multi-Arch: same"
// packages name their list "pkg:arch.list", so that name is tried first only for them.
func dpkgInstallDates(sw []inventory.Software, infoDir string) {
	dir, err := os.Open(infoDir)
	if err != nil {
		return
	}
	defer dir.Close()
	fd := int(dir.Fd())
	var st unix.Stat_t
	for i := range sw {
		names := [2]string{sw[i].Name + ".list", sw[i].Name + ":" + sw[i].Arch + ".list"}
		if sw[i].MultiArch == "same" {
			names[0], names[1] = names[1], names[0]
		}
		for _, n := range names {
			if unix.Fstatat(fd, n, &st, 0) == nil {
				sw[i].InstallDate = time.Unix(st.Mtim.Unix()).UTC().Truncate(time.Second)
				break
			}
		}
	}
}

// rpmDatabase reports whether dir holds an rpm database (sqlite, ndb or Berkeley DB). Debian's
// rpm package ships an empty /var/lib/rpm: running rpm there costs a process start (~20 ms)
// to list nothing.
func rpmDatabase(dir string) bool {
	for _, n := range []string{"rpmdb.sqlite", "Packages.db", "Packages"} {
		if fileExists(filepath.Join(dir, n)) {
			return true
		}
	}
	return false
}

// RPMQueryFormat is the rpm -qa format ParseRPMQuery reads: one tab-separated line a package.
const RPMQueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\t%{SIZE}\t%{VENDOR}\t%{SUMMARY}\t%{URL}\t%{GROUP}\n`

// ParseRPMQuery reads rpm -qa --queryformat RPMQueryFormat output.
func ParseRPMQuery(b []byte) []inventory.Software {
	var out []inventory.Software
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) < 11 || f[0] == "" {
			continue
		}
		none := func(s string) string {
			if s == "(none)" {
				return ""
			}
			return s
		}
		ver := f[2]
		if r := none(f[3]); r != "" {
			ver += "-" + r
		}
		if e := none(f[1]); e != "" && e != "0" {
			ver = e + ":" + ver
		}
		s := inventory.Software{Name: f[0], Version: ver, Arch: none(f[4]), Publisher: none(f[7]), Comment: none(f[8]),
			URL: none(f[9]), Category: none(f[10]), Source: "rpm"}
		if t, err := strconv.ParseInt(f[5], 10, 64); err == nil && t > 0 {
			s.InstallDate = time.Unix(t, 0).UTC()
		}
		if n, err := strconv.ParseUint(f[6], 10, 64); err == nil {
			s.SizeBytes = n
		}
		if s.Arch == "" && s.Name == "gpg-pubkey" {
			continue // imported signing keys, not software
		}
		out = append(out, s)
	}
	return out
}

// ParseApkInstalled reads Alpine's /lib/apk/db/installed.
func ParseApkInstalled(b []byte) []inventory.Software {
	var out []inventory.Software
	var cur *inventory.Software
	flush := func() {
		if cur != nil && cur.Name != "" {
			out = append(out, *cur)
		}
		cur = nil
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		if cur == nil {
			cur = &inventory.Software{Source: "apk"}
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'T':
			cur.Comment = v
		case 'U':
			cur.URL = v
		case 'm':
			cur.Publisher = v
		case 'I':
			cur.SizeBytes, _ = strconv.ParseUint(v, 10, 64)
		case 't':
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				cur.InstallDate = time.Unix(n, 0).UTC() // build time: apk keeps no install time
			}
		}
	}
	flush()
	return out
}

func pacmanPackages(dir string) ([]inventory.Software, error) {
	entries, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	var out []inventory.Software
	for _, e := range entries {
		b, err := readFile(filepath.Join(dir, e.Name(), "desc"))
		if err != nil {
			continue
		}
		if s, ok := ParsePacmanDesc(b); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// ParsePacmanDesc reads one /var/lib/pacman/local/<pkg>/desc file.
func ParsePacmanDesc(b []byte) (inventory.Software, bool) {
	s := inventory.Software{Source: "pacman"}
	key := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "%") && strings.HasSuffix(line, "%") && len(line) > 2 {
			key = line[1 : len(line)-1]
			continue
		}
		if line == "" {
			key = ""
			continue
		}
		switch key {
		case "NAME":
			s.Name = line
		case "VERSION":
			s.Version = line
		case "DESC":
			s.Comment = line
		case "URL":
			s.URL = line
		case "ARCH":
			s.Arch = line
		case "PACKAGER":
			s.Publisher = line
		case "SIZE":
			s.SizeBytes, _ = strconv.ParseUint(line, 10, 64)
		case "INSTALLDATE":
			if n, err := strconv.ParseInt(line, 10, 64); err == nil {
				s.InstallDate = time.Unix(n, 0).UTC()
			}
		}
	}
	return s, s.Name != ""
}

// snapPackages reads each snap's current revision metadata under /snap.
func snapPackages(root string) []inventory.Software {
	entries, err := readDir(root)
	if err != nil {
		return nil
	}
	var out []inventory.Software
	for _, e := range entries {
		cur := filepath.Join(root, e.Name(), "current")
		rev, err := os.Readlink(cur)
		if err != nil {
			continue
		}
		b, err := readFile(filepath.Join(cur, "meta", "snap.yaml"))
		if err != nil {
			continue
		}
		s := inventory.Software{Name: e.Name(), Source: "snap", Comment: "revision " + rev}
		for line := range strings.Lines(string(b)) {
			k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
			if !ok || strings.HasPrefix(k, " ") {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			switch k {
			case "version":
				s.Version = v
			case "summary":
				s.Comment = v
			}
		}
		if fi, err := os.Stat(cur); err == nil {
			s.InstallDate = fi.ModTime().UTC()
		}
		out = append(out, s)
	}
	return out
}

// ParseFlatpakList reads `flatpak list --app --columns=application,name,version,branch,arch,origin`.
func ParseFlatpakList(b []byte) []inventory.Software {
	var out []inventory.Software
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) < 6 || f[0] == "" || f[0] == "Application ID" {
			continue
		}
		ver := f[2]
		if ver == "" {
			ver = f[3]
		}
		out = append(out, inventory.Software{Name: firstSet(f[1], f[0]), Version: ver, Arch: f[4],
			Publisher: f[5], GUID: f[0], Source: "flatpak"})
	}
	return out
}
