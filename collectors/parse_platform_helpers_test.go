package collectors

import (
	"os"
	"testing"

	"github.com/omniagent/omniagent/inventory"
)

func TestPlatformVirtual(t *testing.T) {
	tests := []struct {
		hw   []string
		want inventory.Virtual
	}{
		{[]string{"LENOVO", "20XWCTO1WW", "LENOVO"}, inventory.Virtual{Kind: "physical"}},
		{[]string{"Microsoft Corporation", "Virtual Machine", "Microsoft Corporation"}, inventory.Virtual{Kind: "vm", Vendor: "hyperv", Role: "guest"}},
		{[]string{"VMware, Inc.", "VMware7,1", "VMware, Inc."}, inventory.Virtual{Kind: "vm", Vendor: "vmware", Role: "guest"}},
		{[]string{"innotek GmbH", "VirtualBox", ""}, inventory.Virtual{Kind: "vm", Vendor: "virtualbox", Role: "guest"}},
		{[]string{"QEMU", "Standard PC (Q35 + ICH9, 2009)", "EFI Development Kit II / OVMF"}, inventory.Virtual{Kind: "vm", Vendor: "qemu", Role: "guest"}},
		{[]string{"VirtualMac2,1"}, inventory.Virtual{Kind: "vm", Vendor: "apple", Role: "guest"}},
		{[]string{"Mac14,10"}, inventory.Virtual{Kind: "physical"}},
	}
	for _, tc := range tests {
		if got := platformVirtual(tc.hw...); got != tc.want {
			t.Errorf("platformVirtual(%q) = %+v, want %+v", tc.hw, got, tc.want)
		}
	}
}

func TestSysProfilerValueHelpers(t *testing.T) {
	sizes := map[string]uint64{"32 GB": 32 << 30, "256 KB": 256 << 10, "1,5 TB": 3 << 39, "8 MB": 8 << 20, "empty": 0, "": 0, "12 XB": 0}
	for in, want := range sizes {
		if got := spSize(in); got != want {
			t.Errorf("spSize(%q) = %d, want %d", in, got, want)
		}
	}
	speeds := map[string]uint64{"2.3 GHz": 2_300_000_000, "2,6 GHz": 2_600_000_000, "2667 MHz": 2_667_000_000, "fast": 0, "3 THz": 0}
	for in, want := range speeds {
		if got := spSpeed(in); got != want {
			t.Errorf("spSpeed(%q) = %d, want %d", in, got, want)
		}
	}
	ids := []struct{ in, id, name string }{
		{"0x2109  (VIA Labs, Inc.)", "2109", "VIA Labs, Inc."},
		{"0x5ac", "05ac", ""},
		{"apple_vendor_id", "apple_vendor_id", ""},
		{"", "", ""},
	}
	for _, tc := range ids {
		if id, name := spHexID(tc.in); id != tc.id || name != tc.name {
			t.Errorf("spHexID(%q) = %q, %q", tc.in, id, name)
		}
	}
	for in, want := range map[string]string{"0x4D5434": "MT4", "0x802C": "0x802C", "Samsung": "Samsung", "0xZZ": "0xZZ"} {
		if got := spHexText(in); got != want {
			t.Errorf("spHexText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWindowsNameTables(t *testing.T) {
	for st, want := range map[uint64]string{0: "idle", 1: "paused", 2: "error", 0x80: "offline", 0x400: "printing", 0x200000: "0x200000"} {
		if got := winPrinterStatus(st); got != want {
			t.Errorf("winPrinterStatus(%#x) = %q, want %q", st, got, want)
		}
	}
	for bus, want := range map[uint32]string{17: "NVMe", 7: "USB", 11: "SATA", 0: "", 99: "bus 99"} {
		if got := storageBusName(bus); got != want {
			t.Errorf("storageBusName(%d) = %q, want %q", bus, got, want)
		}
	}
	for typ, want := range map[uint32]string{6: "ethernet", 71: "wifi", 24: "loopback", 131: "tunnel", 0: "", 9: "other"} {
		if got := ifTypeName(typ); got != want {
			t.Errorf("ifTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
	for typ, want := range map[uint32]string{2: "removable", 3: "fixed", 4: "network", 5: "cdrom", 6: "ramdisk", 0: ""} {
		if got := winDriveTypeName(typ); got != want {
			t.Errorf("winDriveTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
	for in, want := range map[string]string{`PCI\VEN_10DE&DEV_1F97&SUBSYS_22D817AA`: "10de:1f97", "pci\\ven_8086&dev_9a49": "8086:9a49", "ROOT\\BasicDisplay": ""} {
		if got := pciIDFromHardwareID(in); got != want {
			t.Errorf("pciIDFromHardwareID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"@usb.inf,%usb\\composite.devicedesc%;USB Composite Device": "USB Composite Device", "Plain; name": "Plain; name"} {
		if got := infString(in); got != want {
			t.Errorf("infString(%q) = %q, want %q", in, got, want)
		}
	}
	for v, want := range map[string]string{"14.4.1": "Sonoma", "15.0": "Sequoia", "10.15.7": ""} {
		if got := macOSCodename(v); got != want {
			t.Errorf("macOSCodename(%q) = %q, want %q", v, got, want)
		}
	}
}

// Parsing speed of the recorded platform data (the Windows and macOS collectors cannot be
// timed here; these are their CPU-bound parts).
func BenchmarkParseSysProfiler(b *testing.B) {
	data, err := os.ReadFile("testdata/darwin/system_profiler.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseSysProfiler(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegistrySoftware(b *testing.B) {
	data, err := os.ReadFile("testdata/windows/registry.reg")
	if err != nil {
		b.Fatal(err)
	}
	root, err := parseRegExport(data)
	if err != nil {
		b.Fatal(err)
	}
	k, err := root.Open(`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if len(softwareFromUninstall(k, "x86_64", "")) == 0 {
			b.Fatal("no software")
		}
	}
}

func BenchmarkParseBinaryPlist(b *testing.B) {
	data, err := os.ReadFile("testdata/darwin/dslocal/users/jane.plist")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := parsePlist(data); err != nil {
			b.Fatal(err)
		}
	}
}
