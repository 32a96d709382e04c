package collectors

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/lazyre"
)

// This file turns Windows registry keys into inventory. It has no build tag: the Windows
// collectors call it on the live registry and the tests on a recorded .reg export.

// regStr reads a string value trimmed of spaces and trailing NULs (some installers write them).
func regStr(k regKey, name string) string {
	s, _ := k.String(name)
	return strings.TrimSpace(strings.TrimRight(s, "\x00"))
}

// regUint reads an integer value, accepting the decimal or 0x strings some installers write.
func regUint(k regKey, name string) (uint64, bool) {
	if n, ok := k.Integer(name); ok {
		return n, true
	}
	if s := regStr(k, name); s != "" {
		if n, err := strconv.ParseUint(s, 0, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// parseWinInstallDate reads the InstallDate strings of uninstall keys: "20240115" mostly, and
// "1/15/2024" or "2024-01-15" from some installers. Zero when unreadable.
func parseWinInstallDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"20060102", "1/2/2006", "2006-01-02", "02.01.2006", "2006/01/02"} {
		if t, err := time.Parse(layout, s); err == nil && t.Year() > 1980 {
			return t.UTC()
		}
	}
	return time.Time{}
}

// softwareFromUninstall reads one Uninstall key (HKLM 64-bit view, WOW6432Node, or a user's
// HKU\<sid>\...\Uninstall). arch labels the view; user is set for per-user installs.
func softwareFromUninstall(k regKey, arch, user string) []inventory.Software {
	var out []inventory.Software
	eachSubKey(k, nil, func(sub string, e regKey) {
		name := regStr(e, "DisplayName")
		if name == "" {
			return // no name: an MSI component or a leftover, not shown by Programs and Features
		}
		s := inventory.Software{
			Name:        name,
			Version:     regStr(e, "DisplayVersion"),
			Publisher:   regStr(e, "Publisher"),
			InstallDate: parseWinInstallDate(regStr(e, "InstallDate")),
			Arch:        arch,
			Source:      "registry",
			Comment:     regStr(e, "Comments"),
			URL:         firstNonEmpty(regStr(e, "URLInfoAbout"), regStr(e, "HelpLink")),
			Uninstall:   regStr(e, "UninstallString"),
			InstallPath: regStr(e, "InstallLocation"),
			User:        user,
		}
		if kb, ok := regUint(e, "EstimatedSize"); ok {
			s.SizeBytes = kb * 1024 // EstimatedSize is in KiB
		}
		if c, ok := regUint(e, "SystemComponent"); ok && c == 1 {
			s.System = true
		}
		if isGUIDKey(sub) {
			s.GUID = sub
		}
		if s.Version == "" {
			s.Version = versionFromParts(e)
		}
		out = append(out, s)
	})
	return out
}

var guidRe = &lazyre.Regexp{Expr: `^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$`}

func isGUIDKey(s string) bool { return guidRe.Get().MatchString(s) }

// versionFromParts builds "major.minor" from VersionMajor/VersionMinor when DisplayVersion is absent.
func versionFromParts(k regKey) string {
	maj, ok1 := regUint(k, "VersionMajor")
	minor, ok2 := regUint(k, "VersionMinor")
	if !ok1 || !ok2 {
		return ""
	}
	return fmt.Sprintf("%d.%d", maj, minor)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// userSoftwareHives lists the loaded user hives below HKEY_USERS that hold per-user installs:
// real accounts (S-1-5-21-…, S-1-12-1-… for Entra ID), not their _Classes twins.
func userSoftwareHives(users regKey) []string {
	sids, err := users.SubKeys()
	if err != nil {
		return nil
	}
	var out []string
	for _, sid := range sids {
		if strings.HasSuffix(strings.ToLower(sid), "_classes") {
			continue
		}
		if strings.HasPrefix(sid, "S-1-5-21-") || strings.HasPrefix(sid, "S-1-12-1-") {
			out = append(out, sid)
		}
	}
	return out
}

// windowsOSFromRegistry reads HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion.
func windowsOSFromRegistry(cv regKey) inventory.OS {
	o := inventory.OS{Family: "windows", KernelName: "Windows NT"}
	product := regStr(cv, "ProductName")
	build := regStr(cv, "CurrentBuildNumber")
	if build == "" {
		build = regStr(cv, "CurrentBuild")
	}
	// Windows 11 kept "Windows 10" in ProductName; the build number tells them apart.
	if n, err := strconv.Atoi(build); err == nil && n >= 22000 && strings.Contains(product, "Windows 10") {
		product = strings.Replace(product, "Windows 10", "Windows 11", 1)
	}
	if product != "" {
		o.Name = "Microsoft " + strings.TrimPrefix(product, "Microsoft ")
	}
	o.Version = firstNonEmpty(regStr(cv, "DisplayVersion"), regStr(cv, "ReleaseId"))
	o.Build = build
	if ubr, ok := regUint(cv, "UBR"); ok && build != "" {
		o.Build = build + "." + strconv.FormatUint(ubr, 10)
	}
	o.Edition = regStr(cv, "EditionID")
	o.ProductID = regStr(cv, "ProductId")
	o.ServicePack = regStr(cv, "CSDVersion")
	maj, ok1 := regUint(cv, "CurrentMajorVersionNumber")
	minor, ok2 := regUint(cv, "CurrentMinorVersionNumber")
	switch {
	case ok1 && ok2 && build != "":
		o.KernelVersion = fmt.Sprintf("%d.%d.%s", maj, minor, build)
	case regStr(cv, "CurrentVersion") != "" && build != "":
		o.KernelVersion = regStr(cv, "CurrentVersion") + "." + build
	}
	if secs, ok := regUint(cv, "InstallDate"); ok && secs > 0 {
		o.InstallDate = time.Unix(int64(secs), 0).UTC()
	}
	o.FullName = strings.TrimSpace(strings.Join([]string{o.Name, o.Version}, " "))
	// The marketing major ("11", "10", "2022"), from the name Windows gives itself.
	for _, f := range strings.Fields(product) {
		if _, err := strconv.Atoi(f); err == nil {
			o.VersionMajor = f
			break
		}
	}
	return o
}

// biosFromRegistry reads HKLM\HARDWARE\DESCRIPTION\System\BIOS, which Windows fills from SMBIOS
// at boot: the fallback when the raw SMBIOS table is not readable.
func biosFromRegistry(k regKey) (inventory.System, inventory.BIOS) {
	sys := inventory.System{
		Manufacturer: regStr(k, "SystemManufacturer"),
		Model:        regStr(k, "SystemProductName"),
		SKU:          regStr(k, "SystemSKU"),
		Family:       regStr(k, "SystemFamily"),
		Baseboard: inventory.Baseboard{
			Manufacturer: regStr(k, "BaseBoardManufacturer"),
			Product:      regStr(k, "BaseBoardProduct"),
			Version:      regStr(k, "BaseBoardVersion"),
		},
	}
	b := inventory.BIOS{
		Vendor:  regStr(k, "BIOSVendor"),
		Version: regStr(k, "BIOSVersion"),
		DateRaw: regStr(k, "BIOSReleaseDate"),
	}
	if t, err := time.Parse("01/02/2006", b.DateRaw); err == nil {
		b.ReleaseDate = t.UTC()
	}
	return sys, b
}

var cpuIdentRe = &lazyre.Regexp{Expr: `Family (\d+) Model (\d+) Stepping (\d+)`}

// cpuFromRegistry reads HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0: name, vendor,
// family/model/stepping and the nominal MHz.
func cpuFromRegistry(k regKey) inventory.CPU {
	c := inventory.CPU{
		Model:  regStr(k, "ProcessorNameString"),
		Vendor: regStr(k, "VendorIdentifier"),
	}
	if m := cpuIdentRe.Get().FindStringSubmatch(regStr(k, "Identifier")); m != nil {
		c.Family, c.ModelNumber, c.Stepping = m[1], m[2], m[3]
	}
	if mhz, ok := regUint(k, "~MHz"); ok {
		c.SpeedHz = mhz * 1_000_000
	}
	return c
}

// Printer attribute bits (PRINTER_ATTRIBUTE_* in winspool.h).
const (
	printerAttrDefault = 0x4
	printerAttrShared  = 0x8
	printerAttrNetwork = 0x10
)

// printersFromRegistry reads HKLM\SYSTEM\CurrentControlSet\Control\Print\Printers.
func printersFromRegistry(k regKey) []inventory.Printer {
	var out []inventory.Printer
	eachSubKey(k, nil, func(sub string, e regKey) {
		p := inventory.Printer{
			Name:        firstNonEmpty(regStr(e, "Name"), sub),
			Driver:      regStr(e, "Printer Driver"),
			Port:        regStr(e, "Port"),
			Description: regStr(e, "Description"),
			Location:    regStr(e, "Location"),
		}
		attr, _ := regUint(e, "Attributes")
		p.Default = attr&printerAttrDefault != 0
		p.Shared = attr&printerAttrShared != 0
		p.Network = attr&printerAttrNetwork != 0 || strings.HasPrefix(p.Port, `\\`) ||
			strings.HasPrefix(strings.ToLower(p.Port), "http") || strings.HasPrefix(strings.ToUpper(p.Port), "IP_")
		if st, ok := regUint(e, "Status"); ok {
			p.Status = winPrinterStatus(st)
		}
		out = append(out, p)
	})
	return out
}

// winPrinterStatus names the most telling PRINTER_STATUS_* bit.
func winPrinterStatus(st uint64) string {
	switch {
	case st == 0:
		return "idle"
	case st&0x1 != 0:
		return "paused"
	case st&0x2 != 0:
		return "error"
	case st&0x80 != 0:
		return "offline"
	case st&0x400 != 0:
		return "printing"
	}
	return fmt.Sprintf("0x%x", st)
}

// usbFromRegistry reads HKLM\SYSTEM\CurrentControlSet\Enum\USB: VID_xxxx&PID_yyyy\<instance>.
// Interfaces of composite devices (&MI_xx) and hubs without ids are skipped. When presentOnly is
// set, only devices attached now (those with the volatile Control subkey) are listed.
func usbFromRegistry(k regKey, presentOnly bool) []inventory.USBDevice {
	var out []inventory.USBDevice
	deviceIDs := func(id string) bool {
		upper := strings.ToUpper(id)
		return strings.HasPrefix(upper, "VID_") && !strings.Contains(upper, "&MI_")
	}
	eachSubKey(k, deviceIDs, func(id string, dev regKey) {
		vid, pid := usbIDs(strings.ToUpper(id))
		eachSubKey(dev, nil, func(inst string, e regKey) {
			if presentOnly && !hasSubKey(e, "Control") {
				return
			}
			u := inventory.USBDevice{
				Name:         infString(firstNonEmpty(regStr(e, "FriendlyName"), regStr(e, "DeviceDesc"))),
				VendorID:     vid,
				ProductID:    pid,
				Manufacturer: infString(regStr(e, "Mfg")),
				Class:        regStr(e, "Class"),
				Bus:          "usb",
			}
			// Windows makes up instance ids containing '&' for devices without a serial.
			if !strings.Contains(inst, "&") {
				u.Serial = inst
			}
			out = append(out, u)
		})
	})
	return out
}

func usbIDs(s string) (vid, pid string) {
	for _, part := range strings.Split(s, "&") {
		switch {
		case strings.HasPrefix(part, "VID_"):
			vid = strings.ToLower(part[4:])
		case strings.HasPrefix(part, "PID_"):
			pid = strings.ToLower(part[4:])
		}
	}
	return vid, pid
}

// infString strips the INF indirection of "@usb.inf,%usb\composite.devicedesc%;USB Composite Device".
func infString(s string) string {
	if i := strings.LastIndex(s, ";"); i >= 0 && strings.HasPrefix(s, "@") {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

// usersFromProfileList reads HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList:
// every account with a profile on the machine, local or domain. Names come from the profile
// folder, the only name the key holds.
func usersFromProfileList(k regKey) []inventory.User {
	var out []inventory.User
	eachSubKey(k, nil, func(sid string, e regKey) {
		home := regStr(e, "ProfileImagePath")
		if home == "" {
			return
		}
		name := path.Base(strings.ReplaceAll(home, `\`, "/"))
		out = append(out, inventory.User{
			Name:   name,
			UID:    sid,
			Home:   home,
			System: isWellKnownServiceSID(sid),
		})
	})
	return out
}

// isWellKnownServiceSID marks LocalSystem, LocalService and NetworkService.
func isWellKnownServiceSID(sid string) bool {
	switch sid {
	case "S-1-5-18", "S-1-5-19", "S-1-5-20":
		return true
	}
	return false
}

// decodeAVProductState reads the productState of a Security Center AntiVirusProduct: the middle
// byte's 0x10 bit is "real-time protection on", the low byte 0x10 means signatures out of date.
func decodeAVProductState(state uint32) (enabled, upToDate bool) {
	return (state>>8)&0x10 != 0, state&0xff == 0
}

// defenderFromRegistry reads Microsoft Defender's own keys (HKLM\SOFTWARE\Microsoft\Windows
// Defender), the fallback when Security Center is absent (Windows Server) or unreachable.
// ok is false when Defender is not installed.
func defenderFromRegistry(k regKey) (inventory.Antivirus, bool) {
	av := inventory.Antivirus{Name: "Microsoft Defender Antivirus", Company: "Microsoft Corporation"}
	prod := regStr(k, "InstallLocation")
	sig, err := k.Open("Signature Updates")
	if err == nil {
		av.Signatures = regStr(sig, "AVSignatureVersion")
		av.Version = regStr(sig, "EngineVersion")
		sig.Close()
	}
	if prod == "" && av.Signatures == "" {
		return inventory.Antivirus{}, false
	}
	disabled, _ := regUint(k, "DisableAntiSpyware")
	disabledAV, _ := regUint(k, "DisableAntiVirus")
	rtDisabled := uint64(0)
	if rt, err := k.Open("Real-Time Protection"); err == nil {
		rtDisabled, _ = regUint(rt, "DisableRealtimeMonitoring")
		rt.Close()
	}
	av.Enabled = disabled == 0 && disabledAV == 0 && rtDisabled == 0
	// Defender does not record "up to date" here; signatures present is the best we know.
	av.UpToDate = av.Signatures != ""
	return av, true
}

// timezoneFromRegistry reads TimeZoneKeyName from HKLM\SYSTEM\CurrentControlSet\Control\
// TimeZoneInformation and maps the common Windows names to IANA ones.
func timezoneFromRegistry(k regKey) string {
	name := regStr(k, "TimeZoneKeyName")
	if iana, ok := windowsZones.get(name); ok {
		return iana
	}
	return name
}

// windowsZones maps the most common Windows zone names to IANA (CLDR windowsZones, territory 001).
var windowsZones = pairs{
	{"UTC", "Etc/UTC"}, {"GMT Standard Time", "Europe/London"},
	{"W. Europe Standard Time", "Europe/Berlin"}, {"Romance Standard Time", "Europe/Paris"},
	{"Central Europe Standard Time", "Europe/Budapest"},
	{"Central European Standard Time", "Europe/Warsaw"},
	{"E. Europe Standard Time", "Europe/Chisinau"}, {"FLE Standard Time", "Europe/Kiev"},
	{"GTB Standard Time", "Europe/Bucharest"}, {"Russian Standard Time", "Europe/Moscow"},
	{"Eastern Standard Time", "America/New_York"}, {"Central Standard Time", "America/Chicago"},
	{"Mountain Standard Time", "America/Denver"}, {"US Mountain Standard Time", "America/Phoenix"},
	{"Pacific Standard Time", "America/Los_Angeles"}, {"Alaskan Standard Time", "America/Anchorage"},
	{"Hawaiian Standard Time", "Pacific/Honolulu"}, {"Atlantic Standard Time", "America/Halifax"},
	{"E. South America Standard Time", "America/Sao_Paulo"},
	{"Argentina Standard Time", "America/Buenos_Aires"}, {"India Standard Time", "Asia/Calcutta"},
	{"China Standard Time", "Asia/Shanghai"}, {"Tokyo Standard Time", "Asia/Tokyo"},
	{"Korea Standard Time", "Asia/Seoul"}, {"Singapore Standard Time", "Asia/Singapore"},
	{"AUS Eastern Standard Time", "Australia/Sydney"},
	{"New Zealand Standard Time", "Pacific/Auckland"},
	{"South Africa Standard Time", "Africa/Johannesburg"}, {"Arabian Standard Time", "Asia/Dubai"},
	{"Israel Standard Time", "Asia/Jerusalem"}, {"Turkey Standard Time", "Europe/Istanbul"},
}

// sortSoftware orders software by name then version, for stable output.
func sortSoftware(s []inventory.Software) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Name != s[j].Name {
			return s[i].Name < s[j].Name
		}
		return s[i].Version < s[j].Version
	})
}

// monitorsFromRegistry reads HKLM\SYSTEM\CurrentControlSet\Enum\DISPLAY\<model>\<instance>\
// Device Parameters\EDID. Windows keeps an entry for every monitor ever attached; the ones
// attached now have the volatile Control subkey, so only they are listed, unless none has it
// (as in some remote sessions): then every distinct EDID is. Blobs that do not parse are skipped.
func monitorsFromRegistry(k regKey) []inventory.Monitor {
	type found struct {
		m       inventory.Monitor
		present bool
	}
	var all []found
	seen := map[string]bool{}
	eachSubKey(k, nil, func(model string, mk regKey) {
		eachSubKey(mk, nil, func(inst string, ik regKey) {
			var blob []byte
			if dp, err := ik.Open("Device Parameters"); err == nil {
				blob, _ = dp.Binary("EDID")
				dp.Close()
			}
			if len(blob) == 0 || seen[string(blob)] {
				return
			}
			m, err := ParseEDID(blob)
			if err != nil {
				return
			}
			seen[string(blob)] = true
			m.Port = model + `\` + inst
			all = append(all, found{m, hasSubKey(ik, "Control")})
		})
	})
	anyPresent := false
	for _, f := range all {
		anyPresent = anyPresent || f.present
	}
	var out []inventory.Monitor
	for _, f := range all {
		if f.present || !anyPresent {
			out = append(out, f.m)
		}
	}
	return out
}

// displayClassKey is the device class of display adapters below
// HKLM\SYSTEM\CurrentControlSet\Control\Class.
const displayClassKey = `{4d36e968-e325-11ce-bfc1-08002be10318}`

// gpusFromRegistry reads the display adapter driver keys (Class\{4d36e968-…}\0000, 0001…):
// name, maker, driver version, PCI id and dedicated memory.
func gpusFromRegistry(k regKey) []inventory.GPU {
	var out []inventory.GPU
	numbered := func(sub string) bool { _, err := strconv.Atoi(sub); return err == nil } // not Configuration, Properties
	eachSubKey(k, numbered, func(_ string, e regKey) {
		g := inventory.GPU{
			Name:      regStr(e, "DriverDesc"),
			Vendor:    regStr(e, "ProviderName"),
			DriverVer: regStr(e, "DriverVersion"),
		}
		if g.Name != "" {
			g.PCIID = pciIDFromHardwareID(regStr(e, "MatchingDeviceId"))
			if n, ok := e.Integer("HardwareInformation.qwMemorySize"); ok {
				g.MemoryBytes = n
			} else if n, ok := e.Integer("HardwareInformation.MemorySize"); ok {
				g.MemoryBytes = n
			} else if b, ok := e.Binary("HardwareInformation.MemorySize"); ok && len(b) >= 4 {
				g.MemoryBytes = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
			}
			out = append(out, g)
		}
	})
	return out
}

// pciIDFromHardwareID turns "PCI\VEN_10DE&DEV_1F97&SUBSYS_…" into "10de:1f97".
func pciIDFromHardwareID(s string) string {
	var ven, dev string
	for _, part := range strings.Split(strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), `PCI\`)), "&") {
		switch {
		case strings.HasPrefix(part, "VEN_"):
			ven = strings.ToLower(part[4:])
		case strings.HasPrefix(part, "DEV_"):
			dev = strings.ToLower(part[4:])
		}
	}
	if ven == "" || dev == "" {
		return ""
	}
	return ven + ":" + dev
}

// controllersFromRegistry reads HKLM\SYSTEM\CurrentControlSet\Enum\PCI\VEN_x&DEV_y&SUBSYS_z&REV_r\
// <instance>: the PCI devices attached now (with the volatile Control subkey).
func controllersFromRegistry(k regKey) []inventory.Controller {
	var out []inventory.Controller
	eachSubKey(k, nil, func(id string, dev regKey) {
		eachSubKey(dev, nil, func(_ string, e regKey) {
			if hasSubKey(e, "Control") {
				ctl := inventory.Controller{
					Name:         infString(regStr(e, "DeviceDesc")),
					Manufacturer: infString(regStr(e, "Mfg")),
					Type:         regStr(e, "Class"),
					Driver:       regStr(e, "Service"),
					PCIID:        pciIDFromHardwareID(id),
				}
				for _, part := range strings.Split(strings.ToUpper(id), "&") {
					if sub, ok := strings.CutPrefix(part, "SUBSYS_"); ok && len(sub) == 8 {
						// SUBSYS_ddddvvvv: subsystem device then vendor.
						ctl.SubsystemID = strings.ToLower(sub[4:] + ":" + sub[:4])
					}
					if rev, ok := strings.CutPrefix(part, "REV_"); ok {
						ctl.Revision = strings.ToLower(rev)
					}
				}
				// CompatibleIDs hold the class code: PCI\CC_030000.
				ids, _ := e.Strings("CompatibleIDs")
				for _, id := range ids {
					if cc, ok := strings.CutPrefix(strings.ToUpper(id), `PCI\CC_`); ok && len(cc) >= 4 {
						ctl.Class = strings.ToLower(cc[:4])
						break
					}
				}
				out = append(out, ctl)
			}
		})
	})
	return out
}

// appxFromRegistry reads the package store under HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\
// Appx\AppxAllUserStore: packages installed for all users (Applications) and for each user
// (<SID> subkeys), by package full name "Name_Version_Arch_ResourceId_PublisherId". users maps
// SIDs to account names. Frameworks (VCLibs, .NET, UI.Xaml) are marked as system components.
// Best effort: Windows keeps this store for servicing and documents no format for it.
func appxFromRegistry(k regKey, users map[string]string) []inventory.Software {
	subs, err := k.SubKeys()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []inventory.Software
	add := func(store, user string) {
		sk, err := k.Open(store)
		if err != nil {
			return
		}
		defer sk.Close()
		pkgs, _ := sk.SubKeys()
		for _, full := range pkgs {
			s, ok := parsePackageFullName(full)
			if !ok || seen[full+"|"+user] {
				continue
			}
			seen[full+"|"+user] = true
			s.User = user
			out = append(out, s)
		}
	}
	add("Applications", "")
	for _, sub := range subs {
		if strings.HasPrefix(sub, "S-1-5-21-") || strings.HasPrefix(sub, "S-1-12-1-") {
			user := firstNonEmpty(users[sub], sub)
			add(sub, user)
		}
	}
	// A package installed for all users and listed again under a user is one install.
	all := map[string]bool{}
	for _, s := range out {
		if s.User == "" {
			all[s.GUID] = true
		}
	}
	kept := out[:0]
	for _, s := range out {
		if s.User == "" || !all[s.GUID] {
			kept = append(kept, s)
		}
	}
	sortSoftware(kept)
	return kept
}

// parsePackageFullName splits "Microsoft.WindowsCalculator_11.2311.0.0_x64__8wekyb3d8bbwe".
func parsePackageFullName(full string) (inventory.Software, bool) {
	parts := strings.Split(full, "_")
	if len(parts) != 5 || parts[0] == "" || parts[1] == "" {
		return inventory.Software{}, false
	}
	s := inventory.Software{
		Name:    parts[0],
		Version: parts[1],
		Arch:    map[string]string{"x64": "x86_64", "x86": "i386", "arm64": "arm64", "arm": "arm", "neutral": "neutral"}[parts[2]],
		Source:  "msix",
		GUID:    full,
	}
	if parts[4] == "8wekyb3d8bbwe" || parts[4] == "cw5n1h2txyewy" {
		s.Publisher = "Microsoft Corporation"
	}
	for _, fw := range []string{"Microsoft.VCLibs.", "Microsoft.NET.", "Microsoft.UI.Xaml.", "Microsoft.WindowsAppRuntime."} {
		if strings.HasPrefix(s.Name, fw) {
			s.System = true
		}
	}
	return s, true
}
