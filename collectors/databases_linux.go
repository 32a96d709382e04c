package collectors

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// dbEngine is a database server we look for: its process name, where its binary lives when
// installed, and its package names (Debian/Ubuntu) for the version.
type dbEngine struct {
	Type, Name, Manufacturer string
	Comms                    []string // process names (comm)
	Binaries                 []string // globs
	Packages                 []string
	DefaultPort              int
}

var linuxDBEngines = []dbEngine{
	{Type: "mariadb", Name: "MariaDB", Manufacturer: "MariaDB Foundation", Comms: []string{"mariadbd"},
		Binaries: []string{"/usr/sbin/mariadbd"}, Packages: []string{"mariadb-server-core", "mariadb-server"}, DefaultPort: 3306},
	{Type: "mysql", Name: "MySQL", Manufacturer: "Oracle Corporation", Comms: []string{"mysqld"},
		Binaries: []string{"/usr/sbin/mysqld"}, Packages: []string{"mysql-server-core-8.0", "mysql-community-server-core", "mysql-server"}, DefaultPort: 3306},
	{Type: "postgresql", Name: "PostgreSQL", Manufacturer: "PostgreSQL Global Development Group", Comms: []string{"postgres", "postmaster"},
		Binaries: []string{"/usr/lib/postgresql/*/bin/postgres", "/usr/pgsql-*/bin/postgres"}, DefaultPort: 5432},
	{Type: "mongodb", Name: "MongoDB", Manufacturer: "MongoDB Inc.", Comms: []string{"mongod"},
		Binaries: []string{"/usr/bin/mongod"}, Packages: []string{"mongodb-org-server", "mongodb-server"}, DefaultPort: 27017},
	{Type: "redis", Name: "Redis", Manufacturer: "Redis Ltd.", Comms: []string{"redis-server"},
		Binaries: []string{"/usr/bin/redis-server"}, Packages: []string{"redis-server"}, DefaultPort: 6379},
	{Type: "mssql", Name: "Microsoft SQL Server", Manufacturer: "Microsoft Corporation", Comms: []string{"sqlservr"},
		Binaries: []string{"/opt/mssql/bin/sqlservr"}, Packages: []string{"mssql-server"}, DefaultPort: 1433},
}

// collectDatabases finds database servers from their running processes (/proc) and installed
// binaries: name, version (package database, else an anonymous protocol greeting), listening
// port (the process's sockets in /proc/net/tcp) and whether it runs. No credentials are used.
func collectDatabases(ctx context.Context, inv *inventory.Inventory) error {
	inv.DatabaseServices = dbScan{proc: "/proc", root: "/"}.scan(ctx)
	return nil
}

type dbScan struct{ proc, root string }

type dbProc struct {
	pid, exe, cwd string
	cmdline       []string
}

func (s dbScan) scan(ctx context.Context) []inventory.DatabaseService {
	want := map[string]bool{}
	for _, e := range linuxDBEngines {
		for _, c := range e.Comms {
			want[c] = true
		}
	}
	// The installed binaries' real paths name their engine's process (Debian's redis-server
	// runs as /usr/bin/redis-check-rdb).
	globs := map[string][]string{} // each pattern is matched once, used twice
	glob := func(g string) []string {
		m, ok := globs[g]
		if !ok {
			m, _ = filepath.Glob(filepath.Join(s.root, g))
			globs[g] = m
		}
		return m
	}
	type resolved struct {
		path string
		err  error
	}
	reals := map[string]resolved{} // and each binary resolved once (an lstat per component)
	realPath := func(b string) (string, error) {
		r, ok := reals[b]
		if !ok {
			r.path, r.err = filepath.EvalSymlinks(b)
			reals[b] = r
		}
		return r.path, r.err
	}
	realBin := map[string]string{} // real path → comm
	for _, e := range linuxDBEngines {
		for _, g := range e.Binaries {
			for _, b := range glob(g) {
				if r, err := realPath(b); err == nil && realBin[r] == "" {
					realBin[r] = e.Comms[0]
				}
			}
		}
	}
	for r := range realBin {
		if want[filepath.Base(r)] {
			realBin[r] = filepath.Base(r) // /usr/sbin/mysqld → mariadbd is MariaDB's
		}
	}
	procs := map[string][]dbProc{} // by comm, main processes only (parent has another name)
	entries, _ := readDir(s.proc)
	for _, e := range entries {
		if c := e.Name()[0]; c < '0' || c > '9' {
			continue
		}
		dir := filepath.Join(s.proc, e.Name())
		// One readlink per process; comm (open, read, close) only where exe is not readable
		// (not root) or names an unknown binary.
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		comm := realBin[exe]
		if comm == "" && want[filepath.Base(exe)] {
			comm = filepath.Base(exe)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			comm = readStr(filepath.Join(dir, "comm"))
		}
		if !want[comm] {
			continue
		}
		if st, err := readFile(filepath.Join(dir, "stat")); err == nil {
			if p, ok := ParseProcStat(st); ok && p.ppid > 1 {
				if pexe, _ := os.Readlink(filepath.Join(s.proc, strconv.Itoa(int(p.ppid)), "exe")); pexe != "" && pexe == exe {
					continue // a worker of the same server (postgres backends)
				}
			}
		}
		cl, _ := readFile(filepath.Join(dir, "cmdline"))
		cwd, _ := os.Readlink(filepath.Join(dir, "cwd"))
		procs[comm] = append(procs[comm], dbProc{pid: e.Name(), exe: exe, cwd: cwd, cmdline: strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")})
	}
	if ctx.Err() != nil {
		return nil
	}
	// The package versions, read once and only when an engine is present.
	var versions map[string]string
	pkgVersion := func(pkg string) string {
		if versions == nil {
			versions = map[string]string{}
			if f, err := os.Open(filepath.Join(s.root, "var/lib/dpkg/status")); err == nil {
				versions = dpkgVersions(f, dbPackage)
				f.Close()
			}
		}
		return versions[pkg]
	}
	var ports map[string]int
	var out []inventory.DatabaseService
	seen := map[string]bool{} // real binary paths already reported (Debian's mysqld → mariadbd)
	for _, e := range linuxDBEngines {
		var running []dbProc
		for _, c := range e.Comms {
			running = append(running, procs[c]...)
		}
		var bins []string
		byReal := map[string]string{} // real path → the engine's own name for it
		for _, g := range e.Binaries {
			for _, b := range glob(g) {
				real, err := realPath(b)
				if err != nil || seen[real] {
					continue
				}
				seen[real] = true
				byReal[real] = b
				bins = append(bins, b)
			}
		}
		for i, p := range running {
			seen[p.exe] = true
			if b := byReal[p.exe]; b != "" {
				running[i].exe = b // Debian's redis-server is a link to redis-check-rdb
			}
		}
		if len(running) == 0 && len(bins) == 0 {
			continue
		}
		if len(running) > 0 && ports == nil {
			ports = listeningTCP(s.proc)
		}
		for _, p := range running {
			d := inventory.DatabaseService{Type: e.Type, Name: e.Name, Manufacturer: e.Manufacturer, Running: true,
				Path: p.exe, Port: s.processPort(p.pid, ports)}
			d.Version = s.version(ctx, e, pkgVersion, p.exe, p.cwd, d.Port)
			out = append(out, d)
		}
		if len(running) == 0 {
			for _, b := range bins {
				d := inventory.DatabaseService{Type: e.Type, Name: e.Name, Manufacturer: e.Manufacturer, Path: b, Port: e.DefaultPort}
				d.Version = s.version(ctx, e, pkgVersion, b, "", 0)
				out = append(out, d)
			}
		}
	}
	return out
}

// processPort is the lowest TCP port the process listens on (0 when it listens only on a
// Unix socket).
func (s dbScan) processPort(pid string, ports map[string]int) int {
	fds, _ := readDir(filepath.Join(s.proc, pid, "fd"))
	var found []int
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join(s.proc, pid, "fd", fd.Name()))
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(l, "socket:["); ok {
			if p, ok := ports[strings.TrimSuffix(inode, "]")]; ok {
				found = append(found, p)
			}
		}
	}
	if len(found) == 0 {
		return 0
	}
	sort.Ints(found)
	return found[0]
}

// version: the package database first (a file read), then what the engine itself tells
// without credentials.
func (s dbScan) version(ctx context.Context, e dbEngine, pkgVersion func(string) string, bin, cwd string, port int) string {
	pkgs := e.Packages
	if e.Type == "postgresql" {
		// /usr/lib/postgresql/15/bin/postgres belongs to postgresql-15.
		if major := pgMajorFromPath(bin); major != "" {
			pkgs = []string{"postgresql-" + major}
		}
	}
	for _, p := range pkgs {
		if v := pkgVersion(p); v != "" {
			return upstreamVersion(v)
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	switch {
	case e.Type == "postgresql" && cwd != "":
		return readStr(filepath.Join(cwd, "PG_VERSION")) // the data folder's major version
	case (e.Type == "mariadb" || e.Type == "mysql") && port > 0:
		if v, err := mysqlHandshakeVersion(ctx, addr); err == nil {
			return v
		}
	case e.Type == "redis" && port > 0:
		if v, err := redisInfoVersion(ctx, addr); err == nil {
			return v
		}
	}
	return ""
}

// dbPackage reports whether version may look the package up: an engine's package or a
// PostgreSQL major version's (postgresql-15).
func dbPackage(name []byte) bool {
	if bytes.HasPrefix(name, []byte("postgresql-")) {
		return true
	}
	for _, e := range linuxDBEngines {
		for _, p := range e.Packages {
			if string(name) == p {
				return true
			}
		}
	}
	return false
}

func pgMajorFromPath(p string) string {
	parts := strings.Split(p, "/")
	for i, x := range parts {
		if x == "postgresql" && i+2 < len(parts) && parts[i+2] == "bin" {
			return parts[i+1]
		}
	}
	return ""
}
