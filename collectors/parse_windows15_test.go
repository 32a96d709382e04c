package collectors

import (
	"os"
	"testing"
	"time"
)

func loadIssue15Reg(t *testing.T) *memRegKey {
	t.Helper()
	b, err := os.ReadFile("testdata/windows/registry_issue15.reg")
	if err != nil {
		t.Fatal(err)
	}
	root, err := parseRegExport(b)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func openReg(t *testing.T, k regKey, path string) regKey {
	t.Helper()
	s, err := k.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func TestWindowsFirewallLicensesRemote(t *testing.T) {
	root := loadIssue15Reg(t)
	fw := firewallsFromRegistry(openReg(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy`),
		openReg(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\WindowsFirewall`))
	want := map[string]string{"DomainProfile": "off", "StandardProfile": "on", "PublicProfile": "on"} // Domain turned off by GPO
	if len(fw) != 3 {
		t.Fatalf("firewalls = %+v", fw)
	}
	for _, f := range fw {
		if want[f.Profile] != f.Status {
			t.Errorf("%s = %s, want %s", f.Profile, f.Status, want[f.Profile])
		}
	}

	lic := windowsLicenses(openReg(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion`),
		[]regKey{openReg(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Office`)})
	if len(lic) != 3 {
		t.Fatalf("licences = %+v", lic)
	}
	if l := lic[0]; l.Name != "Windows 10 Pro" || l.Key != "W269N-WFGWX-YVC9B-4J6C9-T83GX" || l.ProductID != "00330-80000-00000-AA442" {
		t.Errorf("windows = %+v", l)
	}
	var office, trial bool
	for _, l := range lic[1:] {
		office = office || l.Key == "NPPR9-FWDCX-D2C8J-H872K-2YT43" && l.Name == "Microsoft Office Professional Plus 2016"
		trial = trial || l.Trial && l.Key == "" && l.ProductID == "00391-70000-00000-AA111"
	}
	if !office || !trial {
		t.Errorf("office licences = %+v", lic[1:])
	}

	rm := remoteMgmtFromRegistry(openReg(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE`), openReg(t, root, `HKEY_LOCAL_MACHINE\SYSTEM`))
	got := map[string]string{}
	for _, r := range rm {
		got[r.Type] = r.ID
	}
	if got["teamviewer"] != "1250000000" || got["litemanager"] != "MT-123-456-789" || len(got["meshcentral"]) != 64 ||
		got["supremo"] != "005370531" || len(rm) != 4 {
		t.Errorf("remote = %+v", rm)
	}
}

func TestDecodeProductKeyBadInput(t *testing.T) {
	if k := DecodeProductKey(make([]byte, 40)); k != "" {
		t.Errorf("short = %q", k)
	}
	if k := DecodeProductKey(make([]byte, 164)); k != "" {
		t.Errorf("zeros = %q", k)
	}
	b := make([]byte, 164)
	for i := range b {
		b[i] = 0xff
	}
	_ = DecodeProductKey(b) // must not panic
}

func TestWindowsPeripheralsAndWSL(t *testing.T) {
	root := loadIssue15Reg(t)
	sounds, inputs, modems, cams := peripheralsFromEnum(openReg(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum`))
	if len(sounds) != 1 || sounds[0].Name != "Realtek(R) Audio" || sounds[0].Manufacturer != "Realtek" {
		t.Errorf("sounds = %+v", sounds)
	}
	// The second mouse is not attached (no Control subkey).
	if len(inputs) != 2 || inputs[0].Type != "keyboard" || inputs[0].Interface != "PS/2" || inputs[1].Type != "pointing" || inputs[1].Interface != "USB" {
		t.Errorf("inputs = %+v", inputs)
	}
	if len(modems) != 1 || modems[0].Manufacturer != "Sierra Wireless, Incorporated" {
		t.Errorf("modems = %+v", modems)
	}
	if len(cams) != 1 || cams[0].Name != "Integrated Camera" {
		t.Errorf("cameras = %+v", cams)
	}
	wsl := wslFromRegistry(openReg(t, root, `HKEY_USERS\S-1-5-21-1004336348-1177238915-682003330-1001\Software\Microsoft\Windows\CurrentVersion\Lxss`), "alice")
	if len(wsl) != 2 || wsl[0].Name != "Ubuntu-22.04" || wsl[0].Subsystem != "WSL2" || wsl[0].Owner != "alice" || wsl[0].UUID != "0ee9c8e5-3c8f-4b2e-9d62-4f1d7a4c9e21" {
		t.Errorf("wsl = %+v", wsl)
	}
}

// Win32_QuickFixEngineering rows as `Get-CimInstance Win32_QuickFixEngineering` shows them.
func TestHotfixSoftware(t *testing.T) {
	s, ok := hotfixSoftware("KB5034441", "Security Update", "1/9/2024")
	if !ok || s.Name != "KB5034441" || s.Comment != "Security Update" || s.Source != "hotfix" || !s.InstallDate.Equal(time.Date(2024, 1, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("hotfix = %+v", s)
	}
	if s, ok := hotfixSoftware("KB890830", "Update", "01c8f3a2b4d6e000"); !ok || s.InstallDate.IsZero() {
		t.Errorf("filetime hotfix = %+v", s)
	}
	if _, ok := hotfixSoftware("File 1", "", ""); ok {
		t.Error("placeholder row kept")
	}
}

func TestWindowsDatabaseServices(t *testing.T) {
	root := loadIssue15Reg(t)
	dbs := dbServicesFromRegistry(openReg(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services`), openReg(t, root, `HKEY_LOCAL_MACHINE\SOFTWARE`))
	by := map[string]winDBService{}
	for _, d := range dbs {
		by[d.Type] = d
	}
	if len(dbs) != 3 {
		t.Fatalf("dbs = %+v", dbs)
	}
	if d := by["mssql"]; d.Service != "MSSQL$SQLEXPRESS" || d.Name != "Microsoft SQL Server (SQLEXPRESS)" || d.Version != "16.0.4135.4" || d.Port != 1533 {
		t.Errorf("mssql = %+v", d)
	}
	if d := by["postgresql"]; d.Version != "15.6-1" || d.Port != 5432 || d.Service != "postgresql-x64-15" {
		t.Errorf("postgresql = %+v", d)
	}
	if d := by["mariadb"]; d.Version != "10.11.7.0" || d.Name != "MariaDB" {
		t.Errorf("mariadb = %+v", d)
	}
}

func TestWindowsControllerClassAndRevision(t *testing.T) {
	root := loadIssue15Reg(t)
	cs := controllersFromRegistry(openReg(t, root, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Enum\PCI`))
	if len(cs) != 1 || cs[0].Class != "0300" || cs[0].Revision != "01" || cs[0].PCIID != "8086:9a49" {
		t.Errorf("controllers = %+v", cs)
	}
}
