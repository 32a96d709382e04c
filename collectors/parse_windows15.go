package collectors

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// Windows sources for the issue-15 sections, written against regKey so the fixture tests run
// on every OS.

// firewallsFromRegistry reads the three Windows Firewall profiles as glpi-agent does:
// SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\<Profile>\EnableFirewall,
// overridden by a group policy (SOFTWARE\Policies\Microsoft\WindowsFirewall\<Profile>) when set.
func firewallsFromRegistry(policy, gpo regKey) []inventory.Firewall {
	var out []inventory.Firewall
	gpoNames := map[string]string{"DomainProfile": "DomainProfile", "StandardProfile": "PrivateProfile", "PublicProfile": "PublicProfile"}
	for _, p := range []string{"DomainProfile", "StandardProfile", "PublicProfile"} {
		k, err := policy.Open(p)
		if err != nil {
			continue
		}
		v, ok := k.Integer("EnableFirewall")
		k.Close()
		if gpo != nil {
			if g, err := gpo.Open(gpoNames[p]); err == nil {
				if gv, gok := g.Integer("EnableFirewall"); gok {
					v, ok = gv, true
				}
				g.Close()
			}
		}
		if ok {
			out = append(out, inventory.Firewall{Profile: p, Backend: "windows", Status: onOff(v != 0)})
		}
	}
	return out
}

// DecodeProductKey decodes the product key in a DigitalProductId value (bytes 52-66, base 24
// over "BCDFGHJKMPQRTVWXY2346789"; since Windows 8 an N is inserted at the position the first
// digit gives).
func DecodeProductKey(dpid []byte) string {
	const chars = "BCDFGHJKMPQRTVWXY2346789"
	if len(dpid) < 67 {
		return ""
	}
	key := make([]byte, 15)
	copy(key, dpid[52:67])
	win8 := (key[14] / 6) & 1
	key[14] &= 0xf7
	out := make([]byte, 25)
	last := 0
	for i := 24; i >= 0; i-- {
		cur := 0
		for x := 14; x >= 0; x-- {
			cur = cur*256 + int(key[x])
			key[x] = byte(cur / 24)
			cur %= 24
		}
		out[i] = chars[cur]
		last = cur
	}
	s := string(out)
	if win8 == 1 {
		s = s[1:last+1] + "N" + s[last+1:]
	}
	if strings.Trim(s, "B") == "" || strings.Trim(s, "BN") == "" {
		return "" // all zeros: no key stored (volume licence, digital entitlement)
	}
	return s[0:5] + "-" + s[5:10] + "-" + s[10:15] + "-" + s[15:20] + "-" + s[20:25]
}

// windowsLicenses reads the Windows key (CurrentVersion) and Office keys
// (SOFTWARE\Microsoft\Office\<version>\Registration\<product>): name, product id and the
// decoded key.
func windowsLicenses(cv regKey, offices []regKey) []inventory.License {
	var out []inventory.License
	if cv != nil {
		if b, ok := cv.Binary("DigitalProductId"); ok {
			l := inventory.License{Name: regStr(cv, "ProductName"), ProductID: regStr(cv, "ProductId"), Key: DecodeProductKey(b)}
			l.FullName = l.Name
			if l.Key != "" || l.ProductID != "" {
				out = append(out, l)
			}
		}
	}
	seen := map[string]bool{}
	for _, office := range offices {
		eachSubKey(office, func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }, func(_ string, ver regKey) {
			reg, err := ver.Open("Registration")
			if err != nil {
				return
			}
			defer reg.Close()
			eachSubKey(reg, nil, func(_ string, p regKey) {
				b, ok := p.Binary("DigitalProductId")
				if !ok {
					return
				}
				l := inventory.License{Name: firstNonEmpty(regStr(p, "ProductNameNonQualified"), regStr(p, "ProductName")),
					FullName: regStr(p, "ProductName"), ProductID: regStr(p, "ProductID"), Key: DecodeProductKey(b)}
				if l.Name == "" || seen[l.ProductID+l.Key] {
					return
				}
				seen[l.ProductID+l.Key] = true
				l.Trial = strings.Contains(strings.ToLower(l.FullName), "trial")
				out = append(out, l)
			})
		})
	}
	return out
}

// hotfixSoftware turns a Win32_QuickFixEngineering row into a software entry as glpi-agent
// and the OCS agent report hotfixes: the KB id as name, its description, install date.
func hotfixSoftware(id, description, installedOn string) (inventory.Software, bool) {
	id = strings.TrimSpace(id)
	if id == "" || strings.EqualFold(id, "File 1") {
		return inventory.Software{}, false // placeholder rows of old Windows
	}
	s := inventory.Software{Name: id, Comment: strings.TrimSpace(description), Source: "hotfix", Publisher: "Microsoft Corporation", System: true}
	// InstalledOn is the locale's short date on most builds ("3/14/2024"), a hex FILETIME on
	// some old ones.
	for _, layout := range []string{"1/2/2006", "01/02/2006", "2006-01-02", "2.1.2006"} {
		if t, err := time.Parse(layout, strings.TrimSpace(installedOn)); err == nil {
			s.InstallDate = t
			break
		}
	}
	if s.InstallDate.IsZero() && len(installedOn) == 16 {
		if ft, err := strconv.ParseUint(installedOn, 16, 64); err == nil && ft > 116444736000000000 {
			s.InstallDate = time.Unix(int64((ft-116444736000000000)/10_000_000), 0).UTC()
		}
	}
	return s, true
}

// remoteMgmtFromRegistry reads the ids Windows remote-management tools keep in HKLM:
// TeamViewer (ClientID, Version), MeshCentral (Mesh Agent NodeId), LiteManager ("ID (read
// only)" in its server's settings) and SupRemo (ClientID). software is HKLM\SOFTWARE (or its
// WOW6432Node view), system HKLM\SYSTEM.
func remoteMgmtFromRegistry(software, system regKey) []inventory.RemoteMgmt {
	var out []inventory.RemoteMgmt
	add := func(typ, id, ver string) {
		if id = strings.TrimSpace(id); id != "" && id != "0" {
			out = append(out, inventory.RemoteMgmt{Type: typ, ID: id, Version: ver})
		}
	}
	if software != nil {
		if k, err := software.Open("TeamViewer"); err == nil {
			if id, ok := k.Integer("ClientID"); ok {
				add("teamviewer", strconv.FormatUint(id, 10), regStr(k, "Version"))
			}
			k.Close()
		}
		for _, p := range []string{`Open Source\Mesh Agent`, `Open Source\MeshAgent2`} {
			if k, err := software.Open(p); err == nil {
				add("meshcentral", regStr(k, "NodeId"), "")
				k.Close()
			}
		}
		if k, err := software.Open("Supremo"); err == nil {
			add("supremo", supremoID(k), "")
			k.Close()
		}
		for _, p := range []string{"LiteManager Team", "LiteManager"} {
			if k, err := software.Open(p); err == nil {
				add("litemanager", findValue(k, "ID (read only)", 3), "")
				k.Close()
			}
		}
	}
	if system != nil {
		if k, err := system.Open("LiteManager"); err == nil {
			add("litemanager", findValue(k, "ID (read only)", 3), "")
			k.Close()
		}
	}
	return out
}

// supremoID reads SupRemo's ClientID: a DWORD shown as nine digits, in the Supremo key or one
// of its Version<N> subkeys.
func supremoID(k regKey) string {
	if n, ok := k.Integer("ClientID"); ok {
		return fmt.Sprintf("%09d", n)
	}
	if s := regStr(k, "ClientID"); s != "" {
		return s
	}
	var id string
	eachSubKey(k, func(n string) bool { return id == "" && strings.HasPrefix(n, "Version") }, func(_ string, sub regKey) {
		if n, ok := sub.Integer("ClientID"); ok && id == "" {
			id = fmt.Sprintf("%09d", n)
		}
	})
	return id
}

// findValue looks for a string value in k and its subkeys, depth-first, at most depth levels.
func findValue(k regKey, name string, depth int) string {
	if v := regStr(k, name); v != "" {
		return v
	}
	if depth == 0 {
		return ""
	}
	var found string
	eachSubKey(k, func(string) bool { return found == "" }, func(_ string, sub regKey) {
		if found == "" {
			found = findValue(sub, name, depth-1)
		}
	})
	return found
}

// Device setup classes (devguid.h) of the peripherals GLPI lists.
const (
	classMedia    = "{4d36e96c-e325-11ce-bfc1-08002be10318}"
	classKeyboard = "{4d36e96b-e325-11ce-bfc1-08002be10318}"
	classMouse    = "{4d36e96f-e325-11ce-bfc1-08002be10318}"
	classModem    = "{4d36e96d-e325-11ce-bfc1-08002be10318}"
	classCamera   = "{ca3e7ab9-b4c3-4ae6-8251-579ef933890f}"
	classImage    = "{6bdd1fc6-810f-11d0-bec7-08002be2092f}"
)

// enumDevice is one attached device instance of the Enum tree.
type enumDevice struct {
	Bus, ID, Name, Manufacturer string
}

// attachedDevicesByClass walks HKLM\SYSTEM\CurrentControlSet\Enum\<bus>\<id>\<instance> for the
// buses given and returns the attached devices (volatile Control subkey) of each class GUID.
func attachedDevicesByClass(enum regKey, buses []string, classes ...string) map[string][]enumDevice {
	want := map[string]bool{}
	for _, c := range classes {
		want[strings.ToLower(c)] = true
	}
	out := map[string][]enumDevice{}
	for _, bus := range buses {
		b, err := enum.Open(bus)
		if err != nil {
			continue
		}
		eachSubKey(b, nil, func(id string, dev regKey) {
			eachSubKey(dev, nil, func(_ string, e regKey) {
				cls := strings.ToLower(regStr(e, "ClassGUID"))
				if !want[cls] || !hasSubKey(e, "Control") {
					return
				}
				out[cls] = append(out[cls], enumDevice{Bus: bus, ID: id, Name: infString(firstNonEmpty(regStr(e, "FriendlyName"), regStr(e, "DeviceDesc"))),
					Manufacturer: infString(regStr(e, "Mfg"))})
			})
		})
		b.Close()
	}
	return out
}

// peripheralsFromEnum maps the attached devices to sounds, inputs, modems and cameras.
func peripheralsFromEnum(enum regKey) (sounds []inventory.Sound, inputs []inventory.InputDevice, modems []inventory.Modem, cams []inventory.Camera) {
	devs := attachedDevicesByClass(enum, []string{"HDAUDIO", "PCI", "USB", "HID", "ACPI", "BTHENUM", "SWD"},
		classMedia, classKeyboard, classMouse, classModem, classCamera, classImage)
	iface := map[string]string{"USB": "USB", "HID": "USB", "ACPI": "PS/2", "BTHENUM": "Bluetooth", "PCI": "PCI", "HDAUDIO": "HD Audio"}
	for _, d := range devs[classMedia] {
		if d.Bus == "SWD" {
			continue // software audio endpoints, not devices
		}
		sounds = append(sounds, inventory.Sound{Name: d.Name, Manufacturer: d.Manufacturer, Description: d.Bus})
	}
	for _, d := range devs[classKeyboard] {
		inputs = append(inputs, inventory.InputDevice{Name: d.Name, Manufacturer: d.Manufacturer, Type: "keyboard", Interface: iface[d.Bus]})
	}
	for _, d := range devs[classMouse] {
		inputs = append(inputs, inventory.InputDevice{Name: d.Name, Manufacturer: d.Manufacturer, Type: "pointing", Interface: iface[d.Bus]})
	}
	for _, d := range devs[classModem] {
		modems = append(modems, inventory.Modem{Name: d.Name, Manufacturer: d.Manufacturer, Type: iface[d.Bus]})
	}
	for _, d := range append(devs[classCamera], devs[classImage]...) {
		cams = append(cams, inventory.Camera{Name: d.Name, Manufacturer: d.Manufacturer})
	}
	return sounds, inputs, modems, cams
}

// wslFromRegistry lists a user's WSL distributions (HKU\<sid>\Software\Microsoft\Windows\
// CurrentVersion\Lxss\{guid}: DistributionName, Version 1/2, State 1 = installed).
func wslFromRegistry(lxss regKey, owner string) []inventory.VirtualMachine {
	var out []inventory.VirtualMachine
	eachSubKey(lxss, func(n string) bool { return strings.HasPrefix(n, "{") }, func(guid string, d regKey) {
		name := regStr(d, "DistributionName")
		if name == "" {
			return
		}
		vm := inventory.VirtualMachine{Name: name, UUID: strings.Trim(guid, "{}"), Subsystem: "WSL", Type: "wsl", Owner: owner, Status: "off"}
		if v, ok := d.Integer("Version"); ok {
			vm.Subsystem = "WSL" + strconv.FormatUint(v, 10)
		}
		out = append(out, vm)
	})
	return out
}

// winDBService is a database engine found among the Windows services.
type winDBService struct {
	Service string // service name, for its running state
	inventory.DatabaseService
}

// dbServicesFromRegistry finds database servers among the services (SYSTEM\CurrentControlSet\
// Services\<name>\ImagePath) and takes versions from SQL Server's setup keys or the engines'
// uninstall entries. software is HKLM\SOFTWARE.
func dbServicesFromRegistry(services, software regKey) []winDBService {
	type engine struct{ typ, name, maker, uninstall string }
	byExe := map[string]engine{
		"sqlservr.exe":     {"mssql", "Microsoft SQL Server", "Microsoft Corporation", ""},
		"mysqld.exe":       {"mysql", "MySQL", "Oracle Corporation", "MySQL Server"},
		"mariadbd.exe":     {"mariadb", "MariaDB", "MariaDB Foundation", "MariaDB"},
		"pg_ctl.exe":       {"postgresql", "PostgreSQL", "PostgreSQL Global Development Group", "PostgreSQL"},
		"postgres.exe":     {"postgresql", "PostgreSQL", "PostgreSQL Global Development Group", "PostgreSQL"},
		"redis-server.exe": {"redis", "Redis", "Redis Ltd.", "Redis"},
		"mongod.exe":       {"mongodb", "MongoDB", "MongoDB Inc.", "MongoDB"},
		"oracle.exe":       {"oracle", "Oracle Database", "Oracle Corporation", "Oracle Database"},
	}
	ports := map[string]int{"mssql": 1433, "mysql": 3306, "mariadb": 3306, "postgresql": 5432, "redis": 6379, "mongodb": 27017, "oracle": 1521}
	var out []winDBService
	eachSubKey(services, nil, func(name string, svc regKey) {
		img := regStr(svc, "ImagePath")
		exe := strings.ToLower(windowsExeName(img))
		e, ok := byExe[exe]
		if !ok {
			return
		}
		if e.typ == "mysql" && strings.Contains(strings.ToLower(img), "mariadb") {
			e = engine{"mariadb", "MariaDB", "MariaDB Foundation", "MariaDB"}
		}
		d := winDBService{Service: name, DatabaseService: inventory.DatabaseService{Type: e.typ, Name: e.name, Manufacturer: e.maker,
			Path: img, Port: ports[e.typ]}}
		if e.typ == "mssql" {
			inst := "MSSQLSERVER"
			if _, n, ok := strings.Cut(name, "$"); ok {
				inst = n
			}
			d.Name = e.name + " (" + inst + ")"
			d.Version, d.Port = sqlServerSetup(software, inst)
		} else if software != nil {
			d.Version = uninstallVersion(software, e.uninstall)
		}
		out = append(out, d)
	})
	return out
}

// windowsExeName is the executable's file name in a service ImagePath (quoted or not, with
// arguments).
func windowsExeName(img string) string {
	img = strings.TrimSpace(img)
	if strings.HasPrefix(img, `"`) {
		if end := strings.Index(img[1:], `"`); end >= 0 {
			img = img[1 : end+1]
		}
	} else if i := strings.Index(strings.ToLower(img), ".exe"); i >= 0 {
		img = img[:i+4]
	}
	if i := strings.LastIndexAny(img, `\/`); i >= 0 {
		img = img[i+1:]
	}
	return img
}

// sqlServerSetup reads an instance's version and static TCP port.
func sqlServerSetup(software regKey, inst string) (version string, port int) {
	if software == nil {
		return "", 1433
	}
	names, err := software.Open(`Microsoft\Microsoft SQL Server\Instance Names\SQL`)
	if err != nil {
		return "", 1433
	}
	id := regStr(names, inst)
	names.Close()
	if id == "" {
		return "", 1433
	}
	if k, err := software.Open(`Microsoft\Microsoft SQL Server\` + id + `\Setup`); err == nil {
		version = firstNonEmpty(regStr(k, "PatchLevel"), regStr(k, "Version"))
		k.Close()
	}
	port = 1433
	if k, err := software.Open(`Microsoft\Microsoft SQL Server\` + id + `\MSSQLServer\SuperSocketNetLib\Tcp\IPAll`); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(regStr(k, "TcpPort"))); err == nil && p > 0 {
			port = p
		}
		k.Close()
	}
	return version, port
}

// uninstallVersion is the DisplayVersion of the first uninstall entry whose name starts with
// prefix.
func uninstallVersion(software regKey, prefix string) string {
	k, err := software.Open(`Microsoft\Windows\CurrentVersion\Uninstall`)
	if err != nil {
		return ""
	}
	defer k.Close()
	var v string
	eachSubKey(k, func(string) bool { return v == "" }, func(_ string, e regKey) {
		if v == "" && strings.HasPrefix(regStr(e, "DisplayName"), prefix) {
			v = regStr(e, "DisplayVersion")
		}
	})
	return v
}

// onOff is GLPI's firewall status word.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
