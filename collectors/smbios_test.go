package collectors

import (
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// testdata/linux/smbios_thinkpad.bin is an SMBIOS 3.3 table (BIOS, system, baseboard, chassis,
// memory array, two DIMMs, one empty slot) with its entry point.
func TestParseSMBIOS(t *testing.T) {
	major, minor := SMBIOSVersion(readFixture(t, "smbios_entry_point"))
	if major != 3 || minor != 3 {
		t.Fatalf("version %d.%d", major, minor)
	}
	s, err := ParseSMBIOS(readFixture(t, "smbios_thinkpad.bin"), major, minor)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Structures); n != 10 {
		t.Fatalf("%d structures, want 10", n)
	}
	cpus := s.Processors()
	if len(cpus) != 1 {
		t.Fatalf("processors = %+v", cpus)
	}
	if c := cpus[0]; c.Socket != "U3E1" || c.Vendor != "Intel(R) Corporation" || c.MaxSpeedHz != 4800e6 || c.SpeedHz != 2800e6 ||
		c.Cores != 4 || c.Threads != 8 || c.ID != "C1060800FFFBEBBF" || !strings.HasPrefix(c.Model, "11th Gen") {
		t.Errorf("processor = %+v", c)
	}
	var inv inventory.Inventory
	s.Apply(&inv)
	sys, b := inv.System, inv.BIOS
	if sys.Manufacturer != "LENOVO" || sys.Model != "20XWCTO1WW" || sys.Serial != "PF2ABCDE" || sys.Family != "ThinkPad X1 Carbon Gen 9" {
		t.Errorf("system = %+v", sys)
	}
	if sys.UUID != "12345678-1234-5678-9ABC-DEF012345678" {
		t.Errorf("uuid = %s", sys.UUID)
	}
	if sys.ChassisType != "Notebook" || sys.AssetTag != "" {
		t.Errorf("chassis = %q asset %q", sys.ChassisType, sys.AssetTag)
	}
	if sys.Baseboard.Serial != "L1HF12345AB" || sys.Baseboard.AssetTag != "" {
		t.Errorf("baseboard = %+v", sys.Baseboard)
	}
	if b.Vendor != "LENOVO" || b.Version != "N32ET86W (1.62 )" || !b.ReleaseDate.Equal(time.Date(2023, 3, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bios = %+v", b)
	}
	if inv.Memory.Slots != 2 || len(inv.Memory.Modules) != 2 {
		t.Fatalf("memory = %+v", inv.Memory)
	}
	m := inv.Memory.Modules[1]
	if m.SizeBytes != 8<<30 || m.Type != "LPDDR5" || m.SpeedHz != 4267e6 || m.Slot != "ChannelB-DIMM0" || m.Bank != "BANK 2" ||
		m.Manufacturer != "Samsung" || m.PartNumber != "K3LK4K40BM-BGCN" || m.FormFactor != "SODIMM" || m.Serial != "" {
		t.Errorf("module = %+v", m)
	}
}

func TestParseRawSMBIOSData(t *testing.T) {
	table := readFixture(t, "smbios_thinkpad.bin")
	raw := append([]byte{0, 3, 3, 0, byte(len(table)), byte(len(table) >> 8), 0, 0}, table...)
	s, err := ParseRawSMBIOSData(raw)
	if err != nil || s.Major != 3 || len(s.Structures) != 10 {
		t.Fatalf("raw: %v", err)
	}
	if _, err := ParseRawSMBIOSData(raw[:5]); err == nil {
		t.Error("short header accepted")
	}
}

func TestParseSMBIOSTruncated(t *testing.T) {
	table := readFixture(t, "smbios_thinkpad.bin")
	s, err := ParseSMBIOS(table[:200], 3, 3)
	if err == nil || s == nil || len(s.Structures) == 0 {
		t.Errorf("truncated table: %v", err)
	}
}

func TestSMBIOSUUIDByteOrder(t *testing.T) {
	b := []byte{0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78}
	if got := smbiosUUID(b, 2, 4); got != "78563412-3412-7856-9ABC-DEF012345678" {
		t.Errorf("2.4 order = %s", got)
	}
	if got := smbiosUUID(make([]byte, 16), 3, 0); got != "" {
		t.Errorf("zero uuid = %q", got)
	}
}

func FuzzParseSMBIOS(f *testing.F) {
	f.Add(readFixture(f, "smbios_thinkpad.bin"))
	f.Add(readFixture(f, "smbios_thinkpad.bin")[:300])
	f.Add([]byte{17, 4, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := ParseSMBIOS(b, 3, 3)
		if s == nil {
			t.Fatal("nil result")
		}
		var inv inventory.Inventory
		s.Apply(&inv) // must not panic on any table
		if _, err := ParseRawSMBIOSData(b); err == nil && len(b) < 8 {
			t.Fatal("short raw data accepted")
		}
	})
}
