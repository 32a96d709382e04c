package collectors

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/limitread"
)

// macOS sources for the issue-15 sections, OS-neutral so the fixture tests run everywhere.

// alfFirewall reads the application firewall's state from /Library/Preferences/
// com.apple.alf.plist: globalstate 0 = off, 1 = on for specific services, 2 = block all.
func alfFirewall(plist []byte) (inventory.Firewall, bool) {
	m, err := plistDict(plist)
	if err != nil {
		return inventory.Firewall{}, false
	}
	n, ok := plistInt(m["globalstate"])
	if !ok {
		return inventory.Firewall{}, false
	}
	return inventory.Firewall{Profile: "Application Firewall", Backend: "alf", Status: onOff(n > 0)}, true
}

func plistInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// teamViewerPlist reads ClientID and Version from /Library/Preferences/
// com.teamviewer.teamviewer.preferences.plist.
func teamViewerPlist(b []byte) (id, version string) {
	m, err := plistDict(b)
	if err != nil {
		return "", ""
	}
	if n, ok := plistInt(m["ClientID"]); ok && n > 0 {
		id = strconv.FormatInt(n, 10)
	}
	return id, plistString(m, "Version")
}

// homebrewDatabases lists database formulae installed by Homebrew under each prefix
// (/opt/homebrew on Apple silicon, /usr/local on Intel): Cellar/<formula>/<version>. running
// says whether a server's pid file names a live process.
func homebrewDatabases(prefixes []string, alive func(pid int) bool) []inventory.DatabaseService {
	type engine struct {
		typ, name, maker string
		port             int
		pidGlobs         []string // relative to the prefix
	}
	formulae := []struct {
		glob string
		e    engine
	}{
		{"postgresql*", engine{"postgresql", "PostgreSQL", "PostgreSQL Global Development Group", 5432, []string{"var/postgresql*/postmaster.pid", "var/postgres/postmaster.pid"}}},
		{"mysql*", engine{"mysql", "MySQL", "Oracle Corporation", 3306, []string{"var/mysql/*.pid"}}},
		{"mariadb*", engine{"mariadb", "MariaDB", "MariaDB Foundation", 3306, []string{"var/mysql/*.pid"}}},
		{"redis", engine{"redis", "Redis", "Redis Ltd.", 6379, []string{"var/run/redis.pid"}}},
		{"mongodb-community*", engine{"mongodb", "MongoDB", "MongoDB Inc.", 27017, nil}},
	}
	var out []inventory.DatabaseService
	for _, prefix := range prefixes {
		for _, f := range formulae {
			dirs, _ := filepath.Glob(filepath.Join(prefix, "Cellar", f.glob))
			sort.Strings(dirs)
			for _, d := range dirs {
				versions, _ := os.ReadDir(d)
				if len(versions) == 0 {
					continue
				}
				v := versions[len(versions)-1].Name() // the newest installed keg
				db := inventory.DatabaseService{Type: f.e.typ, Name: f.e.name, Manufacturer: f.e.maker, Version: strings.SplitN(v, "_", 2)[0],
					Port: f.e.port, Path: filepath.Join(d, v)}
				for _, g := range f.e.pidGlobs {
					pids, _ := filepath.Glob(filepath.Join(prefix, g))
					for _, p := range pids {
						b, err := limitread.File(p, 4096)
						if err != nil {
							continue
						}
						lines := strings.Split(string(b), "\n")
						if pid, err := strconv.Atoi(strings.TrimSpace(lines[0])); err == nil && alive(pid) {
							db.Running = true
							if f.e.typ == "postgresql" && len(lines) > 3 {
								if port, err := strconv.Atoi(strings.TrimSpace(lines[3])); err == nil {
									db.Port = port
								}
							}
						}
					}
				}
				out = append(out, db)
			}
		}
	}
	return out
}

// utmMachine reads a UTM bundle's config.plist (UTM 4: Information.Name/UUID, System.CPUCount,
// System.MemorySize in MiB, Backend "QEMU" or "Apple").
func utmMachine(b []byte) (inventory.VirtualMachine, bool) {
	m, err := plistDict(b)
	if err != nil {
		return inventory.VirtualMachine{}, false
	}
	info, _ := m["Information"].(map[string]any)
	sys, _ := m["System"].(map[string]any)
	vm := inventory.VirtualMachine{Name: plistString(info, "Name"), UUID: plistString(info, "UUID"), Type: "utm",
		Subsystem: "UTM " + firstStr(plistString(m, "Backend"), "QEMU")}
	if n, ok := plistInt(sys["CPUCount"]); ok && n > 0 {
		vm.VCPUs = int(n)
	}
	if n, ok := plistInt(sys["MemorySize"]); ok && n > 0 {
		vm.MemoryBytes = uint64(n) << 20
	}
	return vm, vm.Name != ""
}

// macVirtualMachines reads the VirtualBox registries and UTM bundles under root.
func macVirtualMachines(root string) []inventory.VirtualMachine {
	var out []inventory.VirtualMachine
	regs, _ := filepath.Glob(filepath.Join(root, "Users", "*", "Library", "VirtualBox", "VirtualBox.xml"))
	sort.Strings(regs)
	for _, reg := range regs {
		b, err := limitread.File(reg, 4<<20)
		if err != nil {
			continue
		}
		owner := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(reg))))
		for _, f := range ParseVirtualBoxRegistry(b, filepath.Dir(reg)) {
			if mb, err := limitread.File(filepath.Join(root, f), 4<<20); err == nil {
				if vm, err := ParseVirtualBoxMachine(mb); err == nil && vm.Name != "" {
					vm.Owner = owner
					out = append(out, vm)
				}
			}
		}
	}
	utms, _ := filepath.Glob(filepath.Join(root, "Users", "*", "Library", "Containers", "com.utmapp.UTM", "Data", "Documents", "*.utm", "config.plist"))
	sort.Strings(utms)
	for _, c := range utms {
		b, err := limitread.File(c, 4<<20)
		if err != nil {
			continue
		}
		if vm, ok := utmMachine(b); ok {
			vm.Owner = filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(c))))))))
			out = append(out, vm)
		}
	}
	return out
}
