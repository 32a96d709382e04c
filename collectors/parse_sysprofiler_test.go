package collectors

import (
	"context"
	"errors"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

func loadSysProfiler(t *testing.T) *inventory.Inventory {
	t.Helper()
	b, err := os.ReadFile("testdata/darwin/system_profiler.json")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := parseSysProfiler(b)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestSysProfilerHardwareAndOS(t *testing.T) {
	inv := loadSysProfiler(t)
	s := inv.System
	if s.Manufacturer != "Apple Inc." || s.Model != "Mac14,10" || s.Family != "MacBook Pro" || s.SKU != "MPHE3LL/A" ||
		s.Serial != "C02XK1ABCDEF" || s.UUID != "8A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D" || s.ChassisType != "Laptop" {
		t.Errorf("system = %+v", s)
	}
	if inv.BIOS.Version != "10151.101.3" || inv.BIOS.SecureBoot == nil || !*inv.BIOS.SecureBoot {
		t.Errorf("bios = %+v", inv.BIOS)
	}
	wantCPU := []inventory.CPU{{Vendor: "Apple", Model: "Apple M2 Pro", Cores: 12, Threads: 12, Arch: "arm64"}}
	if !reflect.DeepEqual(inv.CPUs, wantCPU) {
		t.Errorf("cpus = %+v", inv.CPUs)
	}
	o := inv.OS
	if o.Name != "macOS" || o.Version != "14.4.1" || o.Build != "23E224" || o.KernelVersion != "23.4.0" || o.LastUser != "jane" {
		t.Errorf("os = %+v", o)
	}
	if inv.Memory.TotalBytes != 32<<30 || len(inv.Memory.Modules) != 1 || inv.Memory.Modules[0].Type != "LPDDR5" || inv.Memory.Modules[0].Manufacturer != "Hynix" {
		t.Errorf("memory = %+v", inv.Memory)
	}
}

func TestSysProfilerIntelMemoryAndCPU(t *testing.T) {
	src := `{"SPHardwareDataType":[{"cpu_type":"Quad-Core Intel Core i7","current_processor_speed":"2,3 GHz","l2_cache_core":"256 KB","l3_cache":"8 MB",
	"machine_model":"MacBookPro16,2","machine_name":"MacBook Pro","number_processors":4,"packages":1,"physical_memory":"16 GB","platform_cpu_htt":"htt_enabled"}],
	"SPMemoryDataType":[{"_name":"Memory","_items":[
	 {"_name":"BANK 0/ChannelA-DIMM0","dimm_manufacturer":"0x802C","dimm_part_number":"0x4D5434304132473634484C442D33324B202020","dimm_serial_number":"0x12345678","dimm_size":"8 GB","dimm_speed":"3733 MHz","dimm_status":"ok","dimm_type":"LPDDR4X"},
	 {"_name":"BANK 1/ChannelB-DIMM0","dimm_size":"empty"}]}]}`
	inv, err := parseSysProfiler([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.CPU{Vendor: "GenuineIntel", Model: "Quad-Core Intel Core i7", Cores: 4, Threads: 8, SpeedHz: 2_300_000_000, Arch: "x86_64", CacheL2Bytes: 256 << 10, CacheL3Bytes: 8 << 20}
	if len(inv.CPUs) != 1 || inv.CPUs[0] != want {
		t.Errorf("cpu = %+v", inv.CPUs)
	}
	mods := inv.Memory.Modules
	if inv.Memory.Slots != 2 || len(mods) != 1 || mods[0].PartNumber != "MT40A2G64HLD-32K" || mods[0].Manufacturer != "0x802C" ||
		mods[0].SpeedHz != 3_733_000_000 || mods[0].Serial != "12345678" || mods[0].SizeBytes != 8<<30 {
		t.Errorf("memory = %+v", inv.Memory)
	}
}

func TestSysProfilerDisplays(t *testing.T) {
	inv := loadSysProfiler(t)
	if len(inv.GPUs) != 1 || inv.GPUs[0].Name != "Apple M2 Pro" || inv.GPUs[0].Vendor != "Apple" {
		t.Errorf("gpus = %+v", inv.GPUs)
	}
	if len(inv.Monitors) != 2 {
		t.Fatalf("monitors = %+v", inv.Monitors)
	}
	lcd, dell := inv.Monitors[0], inv.Monitors[1]
	if lcd.Name != "Color LCD" || lcd.VendorID != "APP" || lcd.Port != "internal" || lcd.WidthPx != 3456 || lcd.Year != 0 {
		t.Errorf("internal = %+v", lcd)
	}
	if dell.VendorID != "DEL" || dell.ProductCode != "A0C4" || dell.Serial != "7MT0186K0LKL" || dell.Year != 2019 || dell.Week != 10 || dell.WidthPx != 1920 || dell.HeightPx != 1200 {
		t.Errorf("dell = %+v", dell)
	}
}

func TestSysProfilerStorage(t *testing.T) {
	inv := loadSysProfiler(t)
	if len(inv.Volumes) != 3 || len(inv.Disks) != 2 {
		t.Fatalf("volumes %+v disks %+v", inv.Volumes, inv.Disks)
	}
	root := inv.Volumes[1]
	if root.Mountpoint != "/" || root.Device != "/dev/disk3s1s1" || root.Filesystem != "APFS" || !root.ReadOnly ||
		root.TotalBytes != 994662584320 || root.FreeBytes != 612345446400 || root.Disk != "APPLE SSD AP1024Z" {
		t.Errorf("root = %+v", root)
	}
	ssd, usb := inv.Disks[0], inv.Disks[1]
	if ssd.Type != "ssd" || ssd.Interface != "Apple Fabric" || ssd.Removable || ssd.SmartHealthy == nil || !*ssd.SmartHealthy {
		t.Errorf("ssd = %+v", ssd)
	}
	if usb.Interface != "USB" || !usb.Removable || usb.SmartHealthy != nil {
		t.Errorf("usb disk = %+v", usb)
	}
}

func TestSysProfilerNetwork(t *testing.T) {
	inv := loadSysProfiler(t)
	if len(inv.Networks) != 3 {
		t.Fatalf("networks = %+v", inv.Networks)
	}
	want := inventory.Network{
		Name: "en0", Description: "Wi-Fi", MAC: "a4:83:e7:12:34:56", Type: "wifi", Up: true,
		IPv4:    []inventory.IPAddr{{Address: "192.168.1.20", Prefix: 24, Netmask: "255.255.255.0", Subnet: "192.168.1.0", Broadcast: "192.168.1.255"}},
		IPv6:    []inventory.IPAddr{{Address: "2a01:cb00:1:2:1c2d:3e4f:5a6b:7c8d", Prefix: 64, Subnet: "2a01:cb00:1:2::"}},
		Gateway: "192.168.1.1", Gateway6: "fe80::f6ca:e5ff:fe00:1122", DNS: []string{"192.168.1.1", "2a01:cb00:1:2::1"},
		DHCP: true, DHCPServer: "192.168.1.1",
	}
	if !reflect.DeepEqual(inv.Networks[0], want) {
		t.Errorf("wifi =\n%+v\nwant\n%+v", inv.Networks[0], want)
	}
	if br := inv.Networks[1]; br.Type != "bridge" || !br.Virtual || br.Up {
		t.Errorf("bridge = %+v", br)
	}
	if lan := inv.Networks[2]; lan.DHCP || lan.Gateway != "10.0.0.1" || lan.IPv4[0].Prefix != 16 || lan.Type != "ethernet" {
		t.Errorf("lan = %+v", lan)
	}
}

func TestSysProfilerPowerUSBPrinters(t *testing.T) {
	inv := loadSysProfiler(t)
	wantBat := []inventory.Battery{{Name: "Battery", Manufacturer: "SMP", Model: "bq40z651", Serial: "F8Y2345ABCD1Q2RA", Chemistry: "Li-ion", Charge: 87, Status: "charging"}}
	if !reflect.DeepEqual(inv.Batteries, wantBat) {
		t.Errorf("batteries = %+v", inv.Batteries)
	}
	wantUSB := []inventory.USBDevice{
		{Name: "USB3.1 Hub", VendorID: "2109", ProductID: "0817", Manufacturer: "VIA Labs, Inc.", Bus: "usb"},
		{Name: "Elements 25A2", VendorID: "1058", ProductID: "25a2", Manufacturer: "Western Digital", Serial: "57584B3141413230", Bus: "usb"},
		{Name: "USB Receiver", VendorID: "046d", ProductID: "c52b", Manufacturer: "Logitech", Bus: "usb"},
	}
	if !reflect.DeepEqual(inv.USB, wantUSB) {
		t.Errorf("usb =\n%+v\nwant\n%+v", inv.USB, wantUSB)
	}
	wantPr := []inventory.Printer{
		{Name: "HP LaserJet M404", Driver: "HP LaserJet Pro M404-M405", Port: "ipp://192.168.1.50/ipp/print", Status: "idle", Default: true, Network: true},
		{Name: "Office_Canon", Driver: "Canon iR-ADV C5535", Port: "dnssd://Canon%20iR-ADV._ipps._tcp.local./?uuid=abc", Status: "stopped", Shared: true, Network: true},
	}
	if !reflect.DeepEqual(inv.Printers, wantPr) {
		t.Errorf("printers =\n%+v\nwant\n%+v", inv.Printers, wantPr)
	}
	// USB host data (recent macOS) uses other keys.
	host, err := parseSysProfiler([]byte(`{"SPUSBHostDataType":[{"_name":"USB31Bus","_items":[{"_name":"Magic Keyboard","USBDeviceKeyVendorID":"0x05ac","USBDeviceKeyProductID":"0x029c","USBDeviceKeyVendorName":"Apple Inc.","USBDeviceKeyProductName":"Magic Keyboard","USBDeviceKeySerialNumber":"F0T1234"}]}]}`))
	if err != nil || len(host.USB) != 1 || host.USB[0] != (inventory.USBDevice{Name: "Magic Keyboard", VendorID: "05ac", ProductID: "029c", Manufacturer: "Apple Inc.", Serial: "F0T1234", Bus: "usb"}) {
		t.Errorf("usb host = %+v, %v", host, err)
	}
}

func TestSysProfilerApplications(t *testing.T) {
	inv := loadSysProfiler(t)
	by := map[string]inventory.Software{}
	for _, s := range inv.Software {
		by[s.Name] = s
	}
	if len(inv.Software) != 5 {
		t.Fatalf("software = %+v", inv.Software)
	}
	if c := by["Google Chrome"]; c.Version != "123.0.6312.58" || c.Publisher != "Google LLC" || c.Arch != "universal" || c.Source != "app" ||
		c.InstallPath != "/Applications/Google Chrome.app" || !c.InstallDate.Equal(time.Date(2024, 3, 26, 9, 12, 40, 0, time.UTC)) {
		t.Errorf("chrome = %+v", c)
	}
	if s := by["Safari"]; s.Publisher != "Apple Inc." || !s.System {
		t.Errorf("safari = %+v", s)
	}
	if o := by["OldTool"]; o.User != "jane" || o.Arch != "x86_64" || o.Version != "" {
		t.Errorf("oldtool = %+v", o)
	}
}

func TestParseSysProfilerErrors(t *testing.T) {
	for _, src := range []string{"", "{}", "[1]", `{"SPHardwareDataType": 3}`} {
		if _, err := parseSysProfiler([]byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	// Wrong types inside items are ignored, not fatal.
	if _, err := parseSysProfiler([]byte(`{"SPNetworkDataType":[{"IPv4":{"Addresses":[1,"x"],"SubnetMasks":"bad"},"Ethernet":3}],"SPUSBDataType":[{"_items":"no"}]}`)); err != nil {
		t.Errorf("odd types: %v", err)
	}
}

func FuzzParseSysProfiler(f *testing.F) {
	if b, err := os.ReadFile("testdata/darwin/system_profiler.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSysProfiler(b)
	})
}

func TestSysProfilerSharedRun(t *testing.T) {
	fixture, err := os.ReadFile("testdata/darwin/system_profiler.json")
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	release := make(chan struct{})
	sp := newSysProfiler(func(ctx context.Context) ([]byte, error) {
		runs.Add(1)
		<-release
		return fixture, nil
	})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	sp.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	// A caller whose deadline passes gives up, the run goes on.
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := sp.get(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("short caller: err = %v", err)
	}
	// Concurrent callers share the one run.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if inv, err := sp.get(context.Background()); err != nil || inv.System.Serial != "C02XK1ABCDEF" {
				t.Errorf("get: %v", err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	// Fresh result reused; an old one refreshed.
	if _, err := sp.get(context.Background()); err != nil || runs.Load() != 1 {
		t.Errorf("cached get: %v, runs %d", err, runs.Load())
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	if _, err := sp.get(context.Background()); err != nil || runs.Load() != 2 {
		t.Errorf("refresh: %v, runs %d", err, runs.Load())
	}
	// A failing run reports its error.
	bad := newSysProfiler(func(ctx context.Context) ([]byte, error) { return nil, errors.New("exit status 1") })
	if _, err := bad.get(context.Background()); err == nil {
		t.Error("failed run: no error")
	}
}
