package collectors

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/omniagent/omniagent/inventory"
)

func loadRegFixture(t *testing.T) *memRegKey {
	t.Helper()
	b, err := os.ReadFile("testdata/windows/registry.reg")
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseRegExport(b)
	if err != nil {
		t.Fatalf("parse fixture: %v", err)
	}
	return root
}

func mustOpen(t *testing.T, k regKey, path string) regKey {
	t.Helper()
	s, err := k.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s
}

func TestParseRegExportValueKinds(t *testing.T) {
	src := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\r\n" +
		"@=\"default\"\r\n" +
		"\"Quoted\"=\"say \\\"hi\\\" C:\\\\dir\\\\\"\r\n" +
		"\"Dword\"=dword:0000002a\r\n" +
		"\"Qword\"=hex(b):00,01,00,00,00,00,00,00\r\n" +
		"\"Expand\"=hex(2):25,00,41,00,25,00,00,00\r\n" +
		"\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n" +
		"\"Bin\"=hex:01,02,\\\r\n  03,04\r\n" +
		"\"Gone\"=-\r\n" +
		"[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Deleted]\r\n" +
		"\"Ignored\"=\"x\"\r\n"
	root, err := parseRegExport([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	k := mustOpen(t, root, `hkey_local_machine\software\TEST`) // case-insensitive
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"default", regFirst(k.String("")), "default"},
		{"quoted", regFirst(k.String("quoted")), `say "hi" C:\dir\`},
		{"dword", regFirst(k.Integer("Dword")), uint64(42)},
		{"qword", regFirst(k.Integer("Qword")), uint64(256)},
		{"expand", regFirst(k.String("Expand")), "%A%"},
		{"multi", regFirst(k.Strings("Multi")), []string{"a", "b"}},
		{"binary", regFirst(k.Binary("Bin")), []byte{1, 2, 3, 4}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if _, ok := k.String("Gone"); ok {
		t.Error("deleted value present")
	}
	if _, ok := k.String("Dword"); ok {
		t.Error("String read a dword")
	}
	if _, err := root.Open(`HKEY_LOCAL_MACHINE\SOFTWARE\Deleted`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("deleted key: err = %v, want ErrNotExist", err)
	}
}

func regFirst[T any](v T, _ bool) T { return v }

func TestParseRegExportEncodings(t *testing.T) {
	text := "REGEDIT4\n\n[HKEY_USERS\\X]\n\"A\"=\"é\"\n"
	u16 := utf16.Encode([]rune(text))
	le := []byte{0xff, 0xfe}
	for _, u := range u16 {
		le = append(le, byte(u), byte(u>>8))
	}
	for name, b := range map[string][]byte{
		"utf8":      []byte(text),
		"utf8 bom":  append([]byte{0xef, 0xbb, 0xbf}, text...),
		"utf16 bom": le,
		"utf16":     le[2:],
	} {
		root, err := parseRegExport(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := regFirst(mustOpen(t, root, `HKEY_USERS\X`).String("A")); got != "é" {
			t.Errorf("%s: A = %q", name, got)
		}
	}
}

func TestParseRegExportREGEDIT4Strings(t *testing.T) {
	// REGEDIT4 writes hex(2)/hex(7) data single-byte.
	root, err := parseRegExport([]byte("REGEDIT4\r\n\r\n[HKEY_USERS\\X]\r\n\"E\"=hex(2):25,41,25,00\r\n\"M\"=hex(7):61,00,62,00,00\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := mustOpen(t, root, `HKEY_USERS\X`)
	if e := regFirst(k.String("E")); e != "%A%" {
		t.Errorf("E = %q", e)
	}
	if m := regFirst(k.Strings("M")); !reflect.DeepEqual(m, []string{"a", "b"}) {
		t.Errorf("M = %q", m)
	}
}

func TestParseRegExportErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":          "",
		"no header":      "[HKEY_USERS\\X]\n",
		"bad key":        "REGEDIT4\n[HKEY_USERS\\X\n",
		"bad dword":      "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=dword:zz\n",
		"bad hex":        "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=hex:0g\n",
		"short qword":    "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=hex(b):01\n",
		"unterminated":   "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=\"abc\n",
		"no equals":      "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"\n",
		"unknown data":   "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=str:1\n",
		"bad hex type":   "REGEDIT4\n[HKEY_USERS\\X]\n\"A\"=hex(2:00\n",
		"bad value line": "REGEDIT4\n[HKEY_USERS\\X]\nA=1\n",
	} {
		if _, err := parseRegExport([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "parse .reg export") {
			t.Errorf("%s: error %q does not say what failed", name, err)
		}
	}
}

func FuzzParseRegExport(f *testing.F) {
	if b, err := os.ReadFile("testdata/windows/registry.reg"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("REGEDIT4\n[A\\B]\n\"x\"=hex(7):61,00,\\\n00,00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		root, err := parseRegExport(b)
		if err != nil {
			return
		}
		// Walk everything: no reads may panic.
		var walk func(k regKey, depth int)
		walk = func(k regKey, depth int) {
			if depth > 64 {
				return
			}
			subs, _ := k.SubKeys()
			for _, s := range subs {
				c, err := k.Open(s)
				if err != nil {
					t.Fatalf("listed subkey %q does not open: %v", s, err)
				}
				softwareFromUninstall(c, "x86_64", "")
				printersFromRegistry(c)
				walk(c, depth+1)
			}
		}
		walk(root, 0)
	})
}

func TestSoftwareFromUninstall(t *testing.T) {
	root := loadRegFixture(t)
	const un = `Microsoft\Windows\CurrentVersion\Uninstall`
	got64 := softwareFromUninstall(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\`+un), "x86_64", "")
	got32 := softwareFromUninstall(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\`+un), "i386", "")
	byName := map[string]int{}
	all := append(append([]inventory.Software{}, got64...), got32...)
	for i, s := range all {
		byName[s.Name] = i
	}
	if len(got64) != 3 || len(got32) != 2 {
		t.Fatalf("got %d 64-bit and %d 32-bit entries, want 3 and 2 (nameless keys skipped): %+v", len(got64), len(got32), all)
	}
	tests := []struct {
		name                                 string
		version, publisher, arch, guid, path string
		size                                 uint64
		date                                 time.Time
		system                               bool
	}{
		{"7-Zip 23.01 (x64)", "23.01", "Igor Pavlov", "x86_64", "", `C:\Program Files\7-Zip\`, 0x162e * 1024, time.Time{}, false},
		{"Google Chrome", "122.0.6261.112", "Google LLC", "x86_64", "", `C:\Program Files\Google\Chrome\Application`, 0, time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), false},
		{"Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.38.33135", "14.38.33135", "Microsoft Corporation", "x86_64", "{5AF95FD8-A22E-458F-ACEE-C61BD787178A}", "", 0xb2a * 1024, time.Date(2023, 12, 4, 0, 0, 0, 0, time.UTC), true},
		{"Notepad++ (32-bit x86)", "8.6.2", "Notepad++ Team", "i386", "", "", 0x1194 * 1024, time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), false},
		{"Adobe Acrobat Reader DC", "23.8", "Adobe Systems Incorporated", "i386", "{AC76BA86-7AD7-1033-7B44-AC0F074E4100}", "", 512000 * 1024, time.Date(2023, 11, 20, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		i, ok := byName[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		s := all[i]
		if s.Version != tc.version || s.Publisher != tc.publisher || s.Arch != tc.arch || s.GUID != tc.guid ||
			s.InstallPath != tc.path || s.SizeBytes != tc.size || !s.InstallDate.Equal(tc.date) || s.System != tc.system || s.Source != "registry" {
			t.Errorf("%s = %+v", tc.name, s)
		}
	}
	if u := all[byName["Google Chrome"]].Uninstall; !strings.HasPrefix(u, `"C:\Program Files\Google\Chrome\Application\122.0.6261.112\Installer\setup.exe" --uninstall`) {
		t.Errorf("chrome uninstall = %q", u)
	}
}

func TestPerUserSoftware(t *testing.T) {
	root := loadRegFixture(t)
	users := mustOpen(t, root, "HKEY_USERS")
	sids := userSoftwareHives(users)
	want := []string{"S-1-5-21-3623811015-3361044348-30300820-1001"}
	if !reflect.DeepEqual(sids, want) {
		t.Fatalf("user hives = %v, want %v", sids, want)
	}
	sw := softwareFromUninstall(mustOpen(t, users, sids[0]+`\Software\Microsoft\Windows\CurrentVersion\Uninstall`), "x86_64", "jdoe")
	if len(sw) != 1 || sw[0].Name != "Zoom Workplace" || sw[0].User != "jdoe" || sw[0].SizeBytes != 0x3a1c8*1024 {
		t.Errorf("per-user software = %+v", sw)
	}
}

func TestWindowsOSFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	o := windowsOSFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion`))
	if o.Name != "Microsoft Windows 11 Pro" || o.Version != "23H2" || o.Build != "22631.3296" || o.Edition != "Professional" ||
		o.KernelVersion != "10.0.22631" || o.VersionMajor != "11" || o.ProductID != "00330-80000-00000-AA123" || o.FullName != "Microsoft Windows 11 Pro 23H2" ||
		!o.InstallDate.Equal(time.Unix(0x6553f100, 0)) || o.Family != "windows" {
		t.Errorf("os = %+v", o)
	}
	// Windows 10 stays Windows 10, and an older layout without DisplayVersion uses ReleaseId.
	w10, _ := parseRegExport([]byte("REGEDIT4\n[CV]\n\"ProductName\"=\"Windows 10 Enterprise\"\n\"CurrentBuildNumber\"=\"19045\"\n\"ReleaseId\"=\"2009\"\n\"CurrentVersion\"=\"6.3\"\n"))
	o = windowsOSFromRegistry(mustOpen(t, w10, "CV"))
	if o.Name != "Microsoft Windows 10 Enterprise" || o.Version != "2009" || o.VersionMajor != "10" || o.Build != "19045" || o.KernelVersion != "6.3.19045" {
		t.Errorf("w10 os = %+v", o)
	}
	// Server keeps its name whatever the build.
	srv, _ := parseRegExport([]byte("REGEDIT4\n[CV]\n\"ProductName\"=\"Windows Server 2025 Datacenter\"\n\"CurrentBuildNumber\"=\"26100\"\n\"DisplayVersion\"=\"24H2\"\n\"UBR\"=dword:00000a2b\n"))
	o = windowsOSFromRegistry(mustOpen(t, srv, "CV"))
	if o.Name != "Microsoft Windows Server 2025 Datacenter" || o.Build != "26100.2603" {
		t.Errorf("server os = %+v", o)
	}
}

func TestBIOSAndCPUFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	sys, bios := biosFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\HARDWARE\DESCRIPTION\System\BIOS`))
	if sys.Manufacturer != "LENOVO" || sys.Model != "20XWCTO1WW" || sys.Family != "ThinkPad X1 Carbon Gen 9" || sys.Baseboard.Product != "20XWCTO1WW" {
		t.Errorf("system = %+v", sys)
	}
	if bios.Vendor != "LENOVO" || bios.Version != "N32ET86W (1.62 )" || !bios.ReleaseDate.Equal(time.Date(2023, 9, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bios = %+v", bios)
	}
	c := cpuFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\HARDWARE\DESCRIPTION\System\CentralProcessor\0`))
	if c.Model != "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz" || c.Vendor != "GenuineIntel" || c.Family != "6" || c.ModelNumber != "140" || c.Stepping != "1" || c.SpeedHz != 2904_000_000 {
		t.Errorf("cpu = %+v", c)
	}
}

func TestPrintersFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	ps := printersFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Print\Printers`))
	want := []inventory.Printer{
		{Name: "HP LaserJet M404", Driver: "HP Universal Printing PCL 6", Port: "IP_192.168.1.50", Status: "offline", Default: true, Shared: true, Network: true, Description: "2nd floor", Location: "Building A / Room 201"},
		{Name: "Microsoft Print to PDF", Driver: "Microsoft Print To PDF", Port: "PORTPROMPT:", Status: "idle"},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("printers =\n%+v\nwant\n%+v", ps, want)
	}
}

func TestUSBFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	k := mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\USB`)
	present := usbFromRegistry(k, true)
	want := []inventory.USBDevice{
		{Name: "USB Composite Device", VendorID: "046d", ProductID: "c52b", Manufacturer: "(Standard USB Host Controller)", Class: "USB", Bus: "usb"},
		{Name: "SanDisk Ultra USB 3.0", VendorID: "0781", ProductID: "5581", Manufacturer: "Compatible USB storage device", Serial: "4C530001230915116464", Class: "USB", Bus: "usb"},
	}
	if !reflect.DeepEqual(present, want) {
		t.Errorf("present usb =\n%+v\nwant\n%+v", present, want)
	}
	if all := usbFromRegistry(k, false); len(all) != 3 || all[1].VendorID != "05ac" || all[1].Serial != "00008030000A1234" {
		t.Errorf("all usb = %+v", all)
	}
}

func TestUsersFromProfileList(t *testing.T) {
	root := loadRegFixture(t)
	us := usersFromProfileList(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`))
	got := map[string]inventory.User{}
	for _, u := range us {
		got[u.UID] = u
	}
	if len(us) != 4 {
		t.Fatalf("users = %+v", us)
	}
	if u := got["S-1-5-21-3623811015-3361044348-30300820-1001"]; u.Name != "jdoe" || u.Home != `C:\Users\jdoe` || u.System {
		t.Errorf("jdoe = %+v", u)
	}
	if u := got["S-1-5-18"]; u.Name != "systemprofile" || !u.System {
		t.Errorf("system = %+v", u)
	}
}

func TestAntivirus(t *testing.T) {
	for _, tc := range []struct {
		state            uint32
		enabled, current bool
	}{
		{397568, true, true},   // 0x061100 Defender on, up to date
		{393472, false, true},  // 0x060100 off
		{397584, true, false},  // 0x061110 on, out of date
		{266240, true, true},   // 0x041000 third party on
		{262160, false, false}, // 0x040010
	} {
		e, c := decodeAVProductState(tc.state)
		if e != tc.enabled || c != tc.current {
			t.Errorf("state %#x: enabled %v up-to-date %v, want %v %v", tc.state, e, c, tc.enabled, tc.current)
		}
	}
	root := loadRegFixture(t)
	av, ok := defenderFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender`))
	if !ok || !av.Enabled || !av.UpToDate || av.Signatures != "1.407.446.0" || av.Version != "1.1.24010.10" {
		t.Errorf("defender = %+v ok=%v", av, ok)
	}
	empty, _ := parseRegExport([]byte("REGEDIT4\n[X]\n"))
	if _, ok := defenderFromRegistry(mustOpen(t, empty, "X")); ok {
		t.Error("defender found in an empty key")
	}
}

func TestTimezoneAndInstallDate(t *testing.T) {
	root := loadRegFixture(t)
	if tz := timezoneFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\TimeZoneInformation`)); tz != "Europe/Berlin" {
		t.Errorf("tz = %q", tz)
	}
	for in, want := range map[string]time.Time{
		"20240115":   time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"1/15/2024":  time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"2024-01-15": time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"garbage":    {},
		"00000000":   {},
	} {
		if got := parseWinInstallDate(in); !got.Equal(want) {
			t.Errorf("parseWinInstallDate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMonitorsFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	k := mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\DISPLAY`)
	ms := monitorsFromRegistry(k)
	if len(ms) != 1 {
		t.Fatalf("monitors = %+v, want only the attached DELL", ms)
	}
	m := ms[0]
	if m.Name != "DELL U2415" || m.VendorID != "DEL" || m.Serial != "7MT0186K0LKL" || m.Year != 2019 || m.WidthPx != 1920 || m.HeightPx != 1200 ||
		m.Port != `DELA0C4\5&1a2b3c4d&0&UID4352` {
		t.Errorf("monitor = %+v", m)
	}
	// With no Control subkey anywhere (a remote session), every distinct EDID is reported.
	stale := mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\DISPLAY\DELA0C4\5&1a2b3c4d&0&UID4352`).(*memRegKey)
	delete(stale.subs, "control")
	if ms := monitorsFromRegistry(k); len(ms) != 2 || ms[1].Name != "S27E510" {
		t.Errorf("monitors without Control = %+v", ms)
	}
}

func TestGPUsFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	gs := gpusFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Class\`+displayClassKey))
	want := []inventory.GPU{
		{Name: "Intel(R) Iris(R) Xe Graphics", Vendor: "Intel Corporation", DriverVer: "31.0.101.5186", PCIID: "8086:9a49", MemoryBytes: 2 << 30},
		{Name: "NVIDIA GeForce MX450", Vendor: "NVIDIA", DriverVer: "31.0.15.3713", PCIID: "10de:1f97", MemoryBytes: 2 << 30},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Errorf("gpus =\n%+v\nwant\n%+v", gs, want)
	}
}

func TestControllersFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	cs := controllersFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\PCI`))
	want := []inventory.Controller{
		{Name: "Standard NVM Express Controller", Manufacturer: "(Standard NVM Express Controller)", Type: "SCSIAdapter", PCIID: "144d:a80a", Driver: "stornvme", SubsystemID: "144d:a801", Revision: "00"},
		{Name: "Intel(R) Shared SRAM - A0EF", Manufacturer: "INTEL", Type: "System", PCIID: "8086:a0ef", SubsystemID: "17aa:22d8", Revision: "20"},
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("controllers =\n%+v\nwant\n%+v", cs, want)
	}
}

func TestAppxFromRegistry(t *testing.T) {
	root := loadRegFixture(t)
	users := map[string]string{"S-1-5-21-3623811015-3361044348-30300820-1001": "jdoe"}
	sw := appxFromRegistry(mustOpen(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore`), users)
	want := []inventory.Software{
		{Name: "Microsoft.VCLibs.140.00", Version: "14.0.33519.0", Publisher: "Microsoft Corporation", Arch: "x86_64", Source: "msix", GUID: "Microsoft.VCLibs.140.00_14.0.33519.0_x64__8wekyb3d8bbwe", System: true},
		{Name: "Microsoft.WindowsCalculator", Version: "11.2311.0.0", Publisher: "Microsoft Corporation", Arch: "x86_64", Source: "msix", GUID: "Microsoft.WindowsCalculator_11.2311.0.0_x64__8wekyb3d8bbwe"},
		{Name: "SpotifyAB.SpotifyMusic", Version: "1.230.1135.0", Arch: "i386", Source: "msix", GUID: "SpotifyAB.SpotifyMusic_1.230.1135.0_x86__zpdnekdrzrea0", User: "jdoe"},
	}
	if !reflect.DeepEqual(sw, want) {
		t.Errorf("appx =\n%+v\nwant\n%+v", sw, want)
	}
	if _, ok := parsePackageFullName("Microsoft.BingNews_8wekyb3d8bbwe"); ok {
		t.Error("family name accepted as a full name")
	}
}
