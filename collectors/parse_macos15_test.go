package collectors

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSysProfilerAudioCameraInputs(t *testing.T) {
	b, err := os.ReadFile("testdata/darwin/system_profiler.json")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := parseSysProfiler(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Sounds) != 2 || inv.Sounds[1].Name != "MacBook Air Speakers" || inv.Sounds[1].Manufacturer != "Apple Inc." || inv.Sounds[1].Description != "builtin" {
		t.Errorf("sounds = %+v", inv.Sounds)
	}
	if len(inv.Cameras) != 1 || inv.Cameras[0].Name != "FaceTime HD Camera" {
		t.Errorf("cameras = %+v", inv.Cameras)
	}
	host, err := parseSysProfiler([]byte(`{"SPUSBHostDataType":[{"_name":"USB31Bus","_items":[{"_name":"Magic Keyboard","USBDeviceKeyVendorID":"0x05ac","USBDeviceKeyProductID":"0x029c","USBDeviceKeyVendorName":"Apple Inc.","USBDeviceKeyProductName":"Magic Keyboard"},` +
		`{"_name":"Magic Trackpad","USBDeviceKeyVendorID":"0x05ac","USBDeviceKeyProductID":"0x0265"},{"_name":"Elements","USBDeviceKeyVendorID":"0x1058","USBDeviceKeyProductID":"0x25a2"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(host.Inputs) != 2 || host.Inputs[0].Type != "keyboard" || host.Inputs[1].Type != "pointing" {
		t.Errorf("inputs = %+v", host.Inputs)
	}
}

// com.apple.alf.plist as macOS 14 writes it (XML form; binary on disk, read by the same parser).
func TestALFFirewallAndTeamViewerPlist(t *testing.T) {
	alf := `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>allowdownloadsignedenabled</key><integer>1</integer><key>globalstate</key><integer>1</integer><key>stealthenabled</key><integer>0</integer><key>version</key><string>1.6</string></dict></plist>`
	if f, ok := alfFirewall([]byte(alf)); !ok || f.Status != "on" || f.Profile != "Application Firewall" {
		t.Errorf("alf = %+v %v", f, ok)
	}
	if _, ok := alfFirewall([]byte("garbage")); ok {
		t.Error("garbage accepted")
	}
	tv := `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>ClientID</key><integer>1234567890</integer><key>Version</key><string>15.51.5</string></dict></plist>`
	if id, v := teamViewerPlist([]byte(tv)); id != "1234567890" || v != "15.51.5" {
		t.Errorf("teamviewer = %q %q", id, v)
	}
}

// A Homebrew prefix with PostgreSQL 16 running (its postmaster.pid names this test's process)
// and Redis installed but stopped.
func TestHomebrewDatabases(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"Cellar/postgresql@16/16.4_1", "Cellar/redis/7.2.5", "var/postgresql@16"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pid := "4242\n/opt/homebrew/var/postgresql@16\n1720000000\n5433\n/tmp\n"
	if err := os.WriteFile(filepath.Join(root, "var/postgresql@16/postmaster.pid"), []byte(pid), 0o600); err != nil {
		t.Fatal(err)
	}
	dbs := homebrewDatabases([]string{root}, func(p int) bool { return p == 4242 })
	if len(dbs) != 2 {
		t.Fatalf("dbs = %+v", dbs)
	}
	if d := dbs[0]; d.Type != "postgresql" || d.Version != "16.4" || !d.Running || d.Port != 5433 {
		t.Errorf("postgres = %+v", d)
	}
	if d := dbs[1]; d.Type != "redis" || d.Version != "7.2.5" || d.Running || d.Port != 6379 {
		t.Errorf("redis = %+v", d)
	}
}

// A UTM 4 config.plist (trimmed to the keys read).
func TestUTMMachine(t *testing.T) {
	cfg := `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Backend</key><string>Apple</string>
<key>ConfigurationVersion</key><integer>4</integer><key>Information</key><dict><key>Name</key><string>Ubuntu 24.04</string>
<key>UUID</key><string>7B2C8E4A-1F3D-4E5A-9C6B-2D8F0A1E3C5B</string></dict>
<key>System</key><dict><key>CPUCount</key><integer>4</integer><key>MemorySize</key><integer>4096</integer></dict></dict></plist>`
	vm, ok := utmMachine([]byte(cfg))
	if !ok || vm.Name != "Ubuntu 24.04" || vm.VCPUs != 4 || vm.MemoryBytes != 4<<30 || vm.Subsystem != "UTM Apple" || vm.UUID == "" {
		t.Errorf("utm = %+v %v", vm, ok)
	}
	if _, ok := utmMachine([]byte("nope")); ok {
		t.Error("garbage accepted")
	}
}

func TestMacVirtualMachinesFromUserFolders(t *testing.T) {
	root := t.TempDir()
	writeFile := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("Users/bob/Library/VirtualBox/VirtualBox.xml", `<VirtualBox><Global><MachineRegistry><MachineEntry uuid="{1}" src="/Users/bob/VirtualBox VMs/w/w.vbox"/></MachineRegistry></Global></VirtualBox>`)
	writeFile("Users/bob/VirtualBox VMs/w/w.vbox", `<VirtualBox><Machine uuid="{aa-bb}" name="win"><Hardware><CPU count="2"/><Memory RAMSize="2048"/></Hardware></Machine></VirtualBox>`)
	writeFile("Users/alice/Library/Containers/com.utmapp.UTM/Data/Documents/deb.utm/config.plist",
		`<plist version="1.0"><dict><key>Information</key><dict><key>Name</key><string>deb</string></dict></dict></plist>`)
	vms := macVirtualMachines(root)
	if len(vms) != 2 || vms[0].Name != "win" || vms[0].Owner != "bob" || vms[0].MemoryBytes != 2<<30 || vms[1].Name != "deb" || vms[1].Owner != "alice" {
		t.Errorf("vms = %+v", vms)
	}
}
