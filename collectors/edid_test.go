package collectors

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "linux", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func TestParseEDID(t *testing.T) {
	tests := []struct {
		file                       string
		name, vendor, manu, serial string
		alt                        string
		year, week, w, h, wmm, hmm int
		diag                       float64
		digital                    bool
	}{
		// Recorded from an X.org log and xrandr --verbose / autorandr profiles.
		{"dell_e193fp.edid", "Dell E193FP", "DEL", "Dell", "G656656FLESA", "", 2005, 24, 1280, 1024, 338, 270, 17.0, false},
		{"dell_p2414h.edid", "DELL P2414H", "DEL", "Dell", "36WJX39H1UEL", "827671884", 2013, 38, 1920, 1080, 527, 297, 23.8, true},
		{"boe_ne135fbm.edid", "NE135FBM-N41", "BOE", "BOE", "", "", 2019, 23, 2256, 1504, 285, 190, 13.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseEDID(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != tt.name || m.VendorID != tt.vendor || m.Manufacturer != tt.manu || m.Serial != tt.serial || m.AltSerialCode != tt.alt {
				t.Errorf("identity = %q %q %q serial %q alt %q", m.Name, m.VendorID, m.Manufacturer, m.Serial, m.AltSerialCode)
			}
			if m.Year != tt.year || m.Week != tt.week {
				t.Errorf("date = %d week %d, want %d week %d", m.Year, m.Week, tt.year, tt.week)
			}
			if m.WidthPx != tt.w || m.HeightPx != tt.h || m.WidthMM != tt.wmm || m.HeightMM != tt.hmm {
				t.Errorf("geometry = %dx%d px %dx%d mm", m.WidthPx, m.HeightPx, m.WidthMM, m.HeightMM)
			}
			if m.DiagonalInch != tt.diag || m.DigitalInput != tt.digital {
				t.Errorf("diagonal %v digital %v", m.DiagonalInch, m.DigitalInput)
			}
			if m.EDIDBase64 == "" || m.EDIDVersion == "" || m.ProductCode == "" {
				t.Errorf("raw fields missing: %+v", m)
			}
		})
	}
}

func TestParseEDIDErrors(t *testing.T) {
	good := readFixture(t, "dell_p2414h.edid")
	bad := append([]byte{}, good...)
	bad[0] = 1
	for name, b := range map[string][]byte{"short": good[:100], "header": bad} {
		if _, err := ParseEDID(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseEDID(nil); !errors.Is(err, ErrNoEDID) {
		t.Errorf("empty: %v, want ErrNoEDID", err)
	}
	// Extension blocks after the base block are accepted and ignored.
	if m, err := ParseEDID(append(append([]byte{}, good...), make([]byte, 128)...)); err != nil || m.Name != "DELL P2414H" {
		t.Errorf("with extension: %v %q", err, m.Name)
	}
}

func FuzzParseEDID(f *testing.F) {
	for _, n := range []string{"dell_e193fp.edid", "dell_p2414h.edid", "boe_ne135fbm.edid"} {
		f.Add(readFixture(f, n))
	}
	f.Add([]byte{})
	f.Add(edidHeader[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseEDID(b)
		if err == nil && (len(b) < 128 || m.EDIDBase64 == "") {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if m.WidthPx < 0 || m.HeightPx < 0 || m.WidthPx > 4095+255 {
			t.Fatalf("impossible width %d", m.WidthPx)
		}
	})
}
