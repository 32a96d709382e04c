package glpi

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/lazyre"
)

// obj is one JSON object of the inventory_format document.
type obj = map[string]any

const (
	mb           = 1 << 20
	datetimeForm = "2006-01-02 15:04:05"
	dateForm     = "2006-01-02"
)

// mapOptions tune the mapping.
type mapOptions struct {
	Version  string
	LastFull time.Time
	Loc      *time.Location // local zone for datetimes; nil = time.Local
	Program  string
}

// buildContent maps the common model to inventory_format "content": units converted
// (bytes → MB, Hz → MHz), datetimes in local time without offset, and only the properties the
// strict 1.1.32 schema lists. Empty values are left out.
func buildContent(inv *inventory.Inventory, o mapOptions) obj {
	loc := o.Loc
	if loc == nil {
		loc = time.Local
	}
	dt := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(datetimeForm)
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(dateForm)
	}
	c := obj{}
	c["versionclient"] = userAgent(o.Version)
	vp := obj{"name": "omniagent", "version": o.Version}
	set(vp, "program", o.Program)
	if inv.Meta.Duration > 0 {
		vp["etime"] = int64(inv.Meta.Duration + 0.5)
	}
	if !o.LastFull.IsZero() {
		vp["comments"] = []any{"Last full inventory: " + dt(o.LastFull)}
	}
	c["versionprovider"] = vp
	if !inv.Meta.CollectedAt.IsZero() {
		c["accesslog"] = obj{"logdate": dt(inv.Meta.CollectedAt)}
	}

	sys := inv.System
	hw := obj{}
	set(hw, "name", sys.Hostname)
	set(hw, "uuid", sys.UUID)
	setInt(hw, "memory", toMB(inv.Memory.TotalBytes))
	setInt(hw, "swap", toMB(inv.Memory.SwapBytes))
	hw["vmsystem"] = vmsystem(sys.Virtual)
	set(hw, "chassis_type", sys.ChassisType)
	set(hw, "workgroup", firstNonEmpty(sys.Workgroup, sys.Domain))
	set(hw, "lastloggeduser", inv.OS.LastUser)
	if !inv.OS.LastLoginAt.IsZero() {
		hw["datelastloggeduser"] = inv.OS.LastLoginAt.In(loc).Format("Mon Jan 2 15:04")
	}
	if inv.OS.Family == "windows" {
		set(hw, "winprodid", inv.OS.ProductID)
		set(hw, "winlang", inv.OS.Language)
	}
	var dns []string
	for _, n := range inv.Networks {
		if hw["defaultgateway"] == nil && n.Gateway != "" {
			hw["defaultgateway"] = n.Gateway
		}
		for _, d := range n.DNS {
			if !contains(dns, d) {
				dns = append(dns, d)
			}
		}
	}
	set(hw, "dns", strings.Join(dns, "/"))
	c["hardware"] = hw

	b := inv.BIOS
	bios := obj{}
	set(bios, "bmanufacturer", b.Vendor)
	set(bios, "bversion", b.Version)
	if !b.ReleaseDate.IsZero() {
		bios["bdate"] = b.ReleaseDate.UTC().Format(dateForm)
	} else if d := parseLooseDate(b.DateRaw); d != "" {
		bios["bdate"] = d
	}
	set(bios, "smanufacturer", sys.Manufacturer)
	set(bios, "smodel", sys.Model)
	set(bios, "ssn", sys.Serial)
	set(bios, "skunumber", sys.SKU)
	set(bios, "assettag", sys.AssetTag)
	set(bios, "mmanufacturer", sys.Baseboard.Manufacturer)
	set(bios, "mmodel", sys.Baseboard.Product)
	set(bios, "msn", sys.Baseboard.Serial)
	if b.SecureBoot != nil {
		bios["secure_boot"] = map[bool]string{true: "enabled", false: "disabled"}[*b.SecureBoot]
	}
	c["bios"] = bios

	osx := inv.OS
	ox := obj{}
	set(ox, "name", firstNonEmpty(osx.Name, osx.Family))
	set(ox, "full_name", osx.FullName)
	set(ox, "version", osx.Version)
	set(ox, "service_pack", osx.ServicePack)
	set(ox, "kernel_name", osx.KernelName)
	set(ox, "kernel_version", osx.KernelVersion)
	set(ox, "arch", osx.Arch)
	set(ox, "fqdn", sys.FQDN)
	set(ox, "dns_domain", sys.Domain)
	set(ox, "hostid", osx.HostID)
	set(ox, "boot_time", dt(sys.BootTime))
	set(ox, "install_date", dt(osx.InstallDate))
	ox["timezone"] = timezone(sys, loc, inv.Meta.CollectedAt)
	c["operatingsystem"] = ox

	var cpus []any
	for _, p := range inv.CPUs {
		e := obj{}
		set(e, "name", p.Model)
		set(e, "manufacturer", cpuVendor(p.Vendor))
		speed := p.MaxSpeedHz
		if speed == 0 {
			speed = p.SpeedHz
		}
		setInt(e, "speed", int64(speed/1e6))
		setInt(e, "core", int64(p.Cores))
		setInt(e, "thread", int64(p.Threads))
		set(e, "arch", cpuArch(firstNonEmpty(p.Arch, osx.Arch)))
		set(e, "familynumber", p.Family)
		set(e, "model", p.ModelNumber)
		if n, ok := uintString(p.Stepping); ok {
			e["stepping"] = n
		}
		set(e, "id", p.ID)
		set(e, "serial", p.Serial)
		cpus = appendObj(cpus, e)
	}
	setList(c, "cpus", cpus)

	var mems []any
	for i, m := range inv.Memory.Modules {
		e := obj{}
		setInt(e, "capacity", toMB(m.SizeBytes))
		set(e, "caption", firstNonEmpty(m.Slot, m.Bank))
		set(e, "description", m.FormFactor)
		set(e, "manufacturer", m.Manufacturer)
		set(e, "serialnumber", m.Serial)
		set(e, "model", m.PartNumber)
		set(e, "type", m.Type)
		if m.SpeedHz > 0 {
			e["speed"] = strconv.FormatUint(m.SpeedHz/1e6, 10)
		}
		e["numslots"] = int64(i + 1)
		mems = appendObj(mems, e)
	}
	setList(c, "memories", mems)

	var videos []any
	for _, g := range inv.GPUs {
		e := obj{}
		set(e, "name", g.Name)
		set(e, "chipset", g.Vendor)
		setInt(e, "memory", toMB(g.MemoryBytes))
		set(e, "pcislot", g.PCISlot)
		set(e, "resolution", g.Resolution)
		videos = appendObj(videos, e)
	}
	setList(c, "videos", videos)

	var storages []any
	for _, d := range inv.Disks {
		e := obj{}
		set(e, "name", d.Name)
		set(e, "model", d.Model)
		set(e, "manufacturer", d.Vendor)
		set(e, "serial", d.Serial)
		set(e, "firmware", d.Firmware)
		setInt(e, "disksize", decimalMB(d.SizeBytes)) // decimal MB, as both reference agents and GLPI's UI
		set(e, "interface", strings.ToUpper(d.Interface))
		set(e, "type", storageType(d))
		set(e, "wwn", d.WWN)
		storages = appendObj(storages, e)
	}
	setList(c, "storages", storages)

	var drives []any
	for _, v := range inv.Volumes {
		e := obj{}
		if osx.Family == "windows" && len(v.Mountpoint) >= 2 && v.Mountpoint[1] == ':' {
			e["letter"] = v.Mountpoint[:2]
			set(e, "volumn", v.Device)
			e["systemdrive"] = strings.EqualFold(v.Mountpoint[:2], os.Getenv("SystemDrive"))
		} else {
			set(e, "type", v.Mountpoint)
			set(e, "volumn", v.Device)
		}
		set(e, "filesystem", v.Filesystem)
		if v.TotalBytes > 0 {
			e["total"] = toMB(v.TotalBytes)
			e["free"] = toMB(v.FreeBytes)
		}
		set(e, "label", v.Label)
		set(e, "serial", v.Serial)
		if v.Encrypted != nil && *v.Encrypted {
			set(e, "encrypt_name", firstNonEmpty(v.Encryption, "yes"))
			e["encrypt_status"] = "Yes"
		}
		drives = appendObj(drives, e)
	}
	setList(c, "drives", drives)

	setList(c, "networks", mapNetworks(inv.Networks))

	var mons []any
	for _, m := range inv.Monitors {
		e := obj{}
		set(e, "name", m.Name)
		set(e, "caption", m.Name)
		set(e, "manufacturer", m.Manufacturer)
		set(e, "serial", m.Serial)
		set(e, "altserial", m.AltSerialCode)
		set(e, "port", m.Port)
		set(e, "base64", m.EDIDBase64)
		if m.WidthMM > 0 && m.HeightMM > 0 {
			e["description"] = fmt.Sprintf("%dmm x %dmm", m.WidthMM, m.HeightMM)
		}
		mons = appendObj(mons, e)
	}
	setList(c, "monitors", mons)

	var printers []any
	for _, p := range inv.Printers {
		if strings.TrimSpace(p.Name) == "" {
			continue
		}
		e := obj{"name": p.Name}
		set(e, "driver", p.Driver)
		set(e, "port", p.Port)
		set(e, "status", p.Status)
		set(e, "description", p.Description)
		if p.Shared {
			e["shared"] = true
		}
		if p.Network {
			e["network"] = true
		}
		printers = appendObj(printers, e)
	}
	setList(c, "printers", printers)

	var softs []any
	for _, s := range inv.Software {
		if strings.TrimSpace(s.Name) == "" {
			continue // required by the schema
		}
		e := obj{"name": s.Name}
		set(e, "version", s.Version)
		set(e, "publisher", s.Publisher)
		set(e, "install_date", day(s.InstallDate))
		if s.SizeBytes > 0 {
			e["filesize"] = int64(s.SizeBytes)
		}
		set(e, "arch", s.Arch)
		set(e, "from", s.Source)
		set(e, "comments", s.Comment)
		set(e, "url_info_about", s.URL)
		set(e, "guid", s.GUID)
		set(e, "uninstall_string", s.Uninstall)
		set(e, "folder", s.InstallPath)
		set(e, "username", s.User)
		set(e, "system_category", s.Category)
		softs = appendObj(softs, e)
	}
	setList(c, "softwares", softs)

	var lusers []any
	for _, u := range inv.Users {
		e := obj{}
		set(e, "id", u.UID)
		set(e, "login", u.Name)
		set(e, "name", u.FullName)
		set(e, "home", u.Home)
		set(e, "shell", u.Shell)
		lusers = appendObj(lusers, e)
	}
	setList(c, "local_users", lusers)

	var lgroups []any
	for _, g := range inv.Groups {
		e := obj{}
		set(e, "id", g.GID)
		set(e, "name", g.Name)
		if len(g.Members) > 0 {
			m := make([]any, len(g.Members))
			for i, s := range g.Members {
				m[i] = s
			}
			e["members"] = m
		}
		lgroups = appendObj(lgroups, e)
	}
	setList(c, "local_groups", lgroups)

	var users []any
	seen := map[string]bool{}
	for _, s := range inv.Sessions {
		login, domain := splitDomainUser(s.User)
		if login == "" || seen[s.User] {
			continue
		}
		seen[s.User] = true
		e := obj{"login": login}
		set(e, "domain", domain)
		users = append(users, e)
	}
	setList(c, "users", users)

	var bats []any
	for _, b := range inv.Batteries {
		e := obj{}
		set(e, "name", b.Name)
		set(e, "manufacturer", b.Manufacturer)
		set(e, "serial", b.Serial)
		set(e, "chemistry", b.Chemistry)
		setInt(e, "capacity", int64(b.DesignCapacity))
		setInt(e, "real_capacity", int64(b.FullCapacity))
		setInt(e, "voltage", int64(b.DesignVoltage))
		set(e, "date", day(b.Date))
		bats = appendObj(bats, e)
	}
	setList(c, "batteries", bats)

	var usbs []any
	for _, u := range inv.USB {
		e := obj{}
		set(e, "name", u.Name)
		set(e, "vendorid", strings.ToLower(u.VendorID))
		set(e, "productid", strings.ToLower(u.ProductID))
		set(e, "manufacturer", u.Manufacturer)
		set(e, "serial", u.Serial)
		set(e, "class", u.Class)
		usbs = appendObj(usbs, e)
	}
	setList(c, "usbdevices", usbs)

	var avs []any
	for _, a := range inv.Antivirus {
		e := obj{"name": a.Name, "enabled": a.Enabled, "uptodate": a.UpToDate}
		set(e, "company", a.Company)
		set(e, "version", a.Version)
		set(e, "guid", a.GUID)
		set(e, "base_version", a.Signatures)
		avs = append(avs, e)
	}
	setList(c, "antivirus", avs)

	var procs []any
	for _, p := range inv.Processes {
		e := obj{"pid": int64(p.PID), "user": p.User, "cmd": firstNonEmpty(p.Command, p.Name)}
		if p.CPUPercent > 0 {
			e["cpuusage"] = strconv.FormatFloat(p.CPUPercent, 'f', 1, 64)
		}
		if p.MemPercent > 0 {
			e["mem"] = strconv.FormatFloat(p.MemPercent, 'f', 1, 64)
		}
		if p.VirtBytes > 0 {
			e["virtualmemory"] = int64(p.VirtBytes / 1024)
		}
		set(e, "started", dt(p.Started))
		set(e, "tty", p.TTY)
		procs = append(procs, e)
	}
	setList(c, "processes", procs)

	var ctrls []any
	for _, k := range inv.Controllers {
		e := obj{}
		set(e, "name", k.Name)
		set(e, "caption", k.Name)
		set(e, "manufacturer", k.Manufacturer)
		set(e, "type", k.Type)
		set(e, "pcislot", k.PCISlot)
		set(e, "driver", k.Driver)
		set(e, "pcisubsystemid", k.SubsystemID)
		set(e, "pciclass", strings.ToLower(k.Class))
		set(e, "rev", strings.ToLower(k.Revision))
		if v, p, ok := strings.Cut(k.PCIID, ":"); ok {
			set(e, "vendorid", strings.ToLower(v))
			set(e, "productid", strings.ToLower(p))
		}
		ctrls = appendObj(ctrls, e)
	}
	setList(c, "controllers", ctrls)
	addSections(c, inv)
	for k, v := range c {
		if o, ok := v.(obj); ok && len(o) == 0 && k != "bios" && k != "hardware" {
			// Nothing known: say nothing rather than send an empty section; bios and hardware
			// stay (GLPI expects them on every computer, DMI or not).
			delete(c, k)
		}
	}
	return c
}

// mapNetworks emits one entry per address, as GLPI expects.
func mapNetworks(nets []inventory.Network) []any {
	var out []any
	for _, n := range nets {
		base := obj{"description": n.Name}
		set(base, "mac", strings.ToLower(n.MAC))
		if n.Up {
			base["status"] = "up"
		} else {
			base["status"] = "down"
		}
		if t := netType(n.Type); t != "" {
			base["type"] = t
		}
		if n.SpeedBps > 0 {
			base["speed"] = strconv.FormatUint(n.SpeedBps/1e6, 10)
		}
		if n.Virtual || n.Type == "loopback" {
			base["virtualdev"] = true
		} else {
			base["virtualdev"] = false
		}
		setInt(base, "mtu", int64(n.MTU))
		set(base, "driver", n.Driver)
		set(base, "pciid", n.PCIID)
		if n.DHCP {
			set(base, "ipdhcp", n.DHCPServer)
		}
		if len(n.IPv4) == 0 && len(n.IPv6) == 0 {
			out = append(out, base)
			continue
		}
		for _, a := range n.IPv4 {
			e := clone(base)
			e["ipaddress"] = a.Address
			mask := a.Netmask
			if mask == "" && a.Prefix > 0 && a.Prefix <= 32 {
				mask = net.IP(net.CIDRMask(a.Prefix, 32)).String()
			}
			set(e, "ipmask", mask)
			sub := a.Subnet
			if sub == "" && a.Prefix > 0 {
				if ip := net.ParseIP(a.Address).To4(); ip != nil {
					sub = ip.Mask(net.CIDRMask(a.Prefix, 32)).String()
				}
			}
			set(e, "ipsubnet", sub)
			set(e, "ipgateway", n.Gateway)
			out = append(out, e)
		}
		for _, a := range n.IPv6 {
			e := clone(base)
			e["ipaddress6"] = a.Address
			if a.Prefix > 0 && a.Prefix <= 128 {
				e["ipmask6"] = net.IP(net.CIDRMask(a.Prefix, 128)).String()
				if ip := net.ParseIP(a.Address); ip != nil {
					e["ipsubnet6"] = ip.Mask(net.CIDRMask(a.Prefix, 128)).String()
				}
			}
			set(e, "ipgateway", n.Gateway6)
			out = append(out, e)
		}
	}
	return out
}

func netType(t string) string {
	switch strings.ToLower(t) {
	case "ethernet", "wifi", "infiniband", "aggregate", "alias", "dialup", "loopback", "bridge", "fibrechannel", "bluetooth":
		return strings.ToLower(t)
	case "wireless", "wlan":
		return "wifi"
	case "bond":
		return "aggregate"
	}
	return "" // tunnel, virtual...: not in the enum, left out
}

func vmsystem(v inventory.Virtual) string {
	if v.Kind == "" || v.Kind == "physical" || v.Role == "host" {
		return "Physical"
	}
	switch strings.ToLower(v.Vendor) {
	case "kvm", "qemu":
		return "QEMU"
	case "vmware":
		return "VMware"
	case "virtualbox", "oracle":
		return "VirtualBox"
	case "hyperv", "microsoft":
		return "Hyper-V"
	case "xen":
		return "Xen"
	case "docker":
		return "Docker"
	case "lxc":
		return "lxc"
	case "podman":
		return "Podman"
	case "wsl":
		return "WSL"
	case "":
		return "Virtual"
	}
	return v.Vendor
}

func cpuArch(a string) string {
	switch strings.ToLower(a) {
	case "amd64", "x86_64", "x64":
		return "x86_64"
	case "arm64", "aarch64":
		return "aarch64"
	case "386", "x86", "i386", "i686":
		return "i686"
	case "":
		return ""
	}
	return strings.ToLower(a) // the schema check drops it if the enum does not know it
}

func cpuVendor(v string) string {
	switch v {
	case "GenuineIntel":
		return "Intel"
	case "AuthenticAMD":
		return "AMD"
	}
	return v
}

func storageType(d inventory.Disk) string {
	switch strings.ToLower(d.Type) {
	case "hdd":
		return "disk"
	case "ssd", "nvme":
		return "disk"
	case "optical":
		return "cdrom"
	case "virtual":
		return "disk"
	}
	if d.Removable {
		return "removable"
	}
	return strings.ToLower(d.Type)
}

// timezone builds operatingsystem.timezone: both name and offset ("+0200") are required.
func timezone(sys inventory.System, loc *time.Location, at time.Time) obj {
	if at.IsZero() {
		at = time.Now()
	}
	name, off := at.In(loc).Zone()
	if sys.Timezone != "" {
		if l, err := time.LoadLocation(sys.Timezone); err == nil {
			name, off = at.In(l).Zone()
		}
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return obj{"name": name, "offset": fmt.Sprintf("%s%02d%02d", sign, off/3600, off%3600/60)}
}

var looseDate = &lazyre.Regexp{Expr: `^(\d{1,2})/(\d{1,2})/(\d{4})$`}

// parseLooseDate reads firmware dates: mm/dd/yyyy (SMBIOS) or yyyy-mm-dd.
func parseLooseDate(s string) string {
	s = strings.TrimSpace(s)
	if m := looseDate.Get().FindStringSubmatch(s); m != nil {
		mo, _ := strconv.Atoi(m[1])
		d, _ := strconv.Atoi(m[2])
		if mo > 12 && d <= 12 { // dd/mm/yyyy
			mo, d = d, mo
		}
		t := time.Date(atoi(m[3]), time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Month() == time.Month(mo) && t.Day() == d {
			return t.Format(dateForm)
		}
		return ""
	}
	if t, err := time.Parse(dateForm, s); err == nil {
		return t.Format(dateForm)
	}
	return ""
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func splitDomainUser(u string) (login, domain string) {
	if d, l, ok := strings.Cut(u, `\`); ok {
		return l, d
	}
	if l, d, ok := strings.Cut(u, "@"); ok {
		return l, d
	}
	return u, ""
}

func uintString(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n >= 0
}

func toMB(b uint64) int64 { return int64(b / mb) }

func set(o obj, k, v string) {
	if v = strings.TrimSpace(v); v != "" {
		o[k] = v
	}
}

func setInt(o obj, k string, v int64) {
	if v > 0 {
		o[k] = v
	}
}

func setList(c obj, k string, l []any) {
	if len(l) > 0 {
		c[k] = l
	}
}

func appendObj(l []any, e obj) []any {
	if len(e) == 0 {
		return l
	}
	return append(l, e)
}

func clone(o obj) obj {
	c := make(obj, len(o)+4)
	for k, v := range o {
		c[k] = v
	}
	return c
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}
