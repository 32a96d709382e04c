package collectors

import (
	"os"
	"testing"
)

func TestMonitorsFromIoreg(t *testing.T) {
	for _, tc := range []struct {
		file, name, vendor, serial string
		year                       int
	}{
		{"ioreg_displayconnect.txt", "DELL U2415", "DEL", "7MT0186K0LKL", 2019},
		{"ioreg_appleclcd2.txt", "S27E510", "SAM", "H4ZK100123", 2017},
	} {
		b, err := os.ReadFile("testdata/darwin/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		ms := monitorsFromIoreg(b)
		if len(ms) != 1 { // the Apple silicon dump has the same EDID twice
			t.Fatalf("%s: monitors = %+v", tc.file, ms)
		}
		m := ms[0]
		if m.Name != tc.name || m.VendorID != tc.vendor || m.Serial != tc.serial || m.Year != tc.year {
			t.Errorf("%s: monitor = %+v", tc.file, m)
		}
	}
	if ms := monitorsFromIoreg([]byte(`"IODisplayEDID" = <00ff>` + "\n" + `"EDID" = <zz>`)); len(ms) != 0 {
		t.Errorf("junk gave %+v", ms)
	}
}

func TestMergeMonitors(t *testing.T) {
	io, err := os.ReadFile("testdata/darwin/ioreg_displayconnect.txt")
	if err != nil {
		t.Fatal(err)
	}
	prof := loadSysProfiler(t)
	ms := mergeMonitors(monitorsFromIoreg(io), prof.Monitors)
	// The DELL from EDID, plus the built-in panel only system_profiler knows.
	if len(ms) != 2 || ms[0].Name != "DELL U2415" || ms[0].EDIDBase64 == "" || ms[1].Name != "Color LCD" {
		t.Errorf("merged = %+v", ms)
	}
}

func FuzzEDIDsFromIoreg(f *testing.F) {
	if b, err := os.ReadFile("testdata/darwin/ioreg_displayconnect.txt"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, e := range edidsFromIoreg(b) {
			if len(e) < 128 {
				t.Fatalf("short blob %d", len(e))
			}
		}
	})
}
