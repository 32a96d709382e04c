package glpi

import "testing"

func TestRegPath(t *testing.T) {
	for _, tc := range []struct{ in, hive, key, last string }{
		{`HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App\Version`, "HKLM", `SOFTWARE\Vendor\App`, "Version"},
		{`HKLM/SOFTWARE/Vendor/`, "HKLM", `SOFTWARE`, "Vendor"},
		{`hkcu\Software\X`, "HKCU", `Software`, "X"},
		{`HKEY_USERS`, "HKU", "", ""},
	} {
		h, k, l, err := regPath(tc.in)
		if err != nil || h != tc.hive || k != tc.key || l != tc.last {
			t.Errorf("regPath(%q) = %q %q %q %v", tc.in, h, k, l, err)
		}
	}
	if _, _, _, err := regPath(`HKEY_NOPE\x`); err == nil {
		t.Error("unknown hive accepted")
	}
}
