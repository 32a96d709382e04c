package collectors

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/lazyre"
)

// sysProfilerTypes are the data types asked for in the one `system_profiler -json` run.
// SPUSBHostDataType replaces SPUSBDataType on recent macOS; an unknown type is ignored.
var sysProfilerTypes = []string{
	"SPHardwareDataType", "SPSoftwareDataType", "SPDisplaysDataType", "SPMemoryDataType",
	"SPStorageDataType", "SPNetworkDataType", "SPPowerDataType", "SPUSBDataType", "SPUSBHostDataType",
	"SPApplicationsDataType", "SPPrintersDataType", "SPAudioDataType", "SPCameraDataType",
}

type spItem = map[string]any

// parseSysProfiler decodes `system_profiler -json …` output into an inventory part: system,
// BIOS (boot ROM), OS, CPU, memory, GPUs and displays, disks and volumes, network services,
// batteries, USB devices, applications and printers. Sections absent from the output stay empty.
func parseSysProfiler(b []byte) (*inventory.Inventory, error) {
	var doc map[string][]spItem
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse system_profiler output: %w", err)
	}
	if len(doc) == 0 {
		return nil, errors.New("parse system_profiler output: no data types")
	}
	inv := &inventory.Inventory{}
	for _, it := range doc["SPHardwareDataType"] {
		spHardware(inv, it)
	}
	for _, it := range doc["SPSoftwareDataType"] {
		spSoftwareOverview(inv, it)
	}
	for _, it := range doc["SPDisplaysDataType"] {
		spDisplays(inv, it)
	}
	for _, it := range doc["SPMemoryDataType"] {
		spMemory(inv, it)
	}
	spStorage(inv, doc["SPStorageDataType"])
	for _, it := range doc["SPNetworkDataType"] {
		inv.Networks = append(inv.Networks, spNetwork(it))
	}
	for _, it := range doc["SPPowerDataType"] {
		if spStr(it, "_name") == "spbattery_information" {
			inv.Batteries = append(inv.Batteries, spBattery(it))
		}
	}
	for _, it := range doc["SPUSBDataType"] {
		spUSB(inv, it)
	}
	for _, it := range doc["SPUSBHostDataType"] {
		spUSB(inv, it)
	}
	for _, it := range doc["SPApplicationsDataType"] {
		if s, ok := spApplication(it); ok {
			inv.Software = append(inv.Software, s)
		}
	}
	sortSoftware(inv.Software)
	for _, it := range doc["SPPrintersDataType"] {
		if p, ok := spPrinter(it); ok {
			inv.Printers = append(inv.Printers, p)
		}
	}
	for _, it := range doc["SPAudioDataType"] {
		for _, d := range spList(it, "_items") {
			if n := spStr(d, "_name"); n != "" {
				inv.Sounds = append(inv.Sounds, inventory.Sound{Name: n, Manufacturer: spStr(d, "coreaudio_device_manufacturer"),
					Description: strings.TrimPrefix(spStr(d, "coreaudio_device_transport"), "coreaudio_device_type_")})
			}
		}
	}
	for _, it := range doc["SPCameraDataType"] {
		if n := spStr(it, "_name"); n != "" {
			inv.Cameras = append(inv.Cameras, inventory.Camera{Name: n, Model: spStr(it, "spcamera_model-id")})
		}
	}
	inv.Inputs = inputsFromUSB(inv.USB)
	return inv, nil
}

// ---- value helpers ----

func spStr(m spItem, key string) string {
	switch v := m[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func spNum(m spItem, key string) (float64, bool) {
	switch v := m[key].(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
		return f, err == nil
	}
	return 0, false
}

func spMap(m spItem, key string) spItem {
	v, _ := m[key].(map[string]any)
	return v
}

func spList(m spItem, key string) []spItem {
	arr, _ := m[key].([]any)
	var out []spItem
	for _, e := range arr {
		if mm, ok := e.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

func spStrings(m spItem, key string) []string {
	arr, _ := m[key].([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

var spSizeRe = &lazyre.Regexp{Expr: `^([0-9]+(?:[.,][0-9]+)?)\s*([KMGTP]?B)$`}

// spSize reads "32 GB", "256 KB", "1,5 TB" (binary units, as macOS reports memory) into bytes.
func spSize(s string) uint64 {
	m := spSizeRe.Get().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", "."), 64)
	if err != nil {
		return 0
	}
	mult := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}[m[2]]
	return uint64(f * mult)
}

// spSpeed reads "2.3 GHz" or "2667 MHz" into Hz.
func spSpeed(s string) uint64 {
	f, unit, ok := strings.Cut(strings.TrimSpace(strings.ReplaceAll(s, ",", ".")), " ")
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0
	}
	switch unit {
	case "GHz":
		return uint64(v * 1e9)
	case "MHz", "MT/s":
		return uint64(v * 1e6)
	}
	return 0
}

// spHexID reads "0x2109  (VIA Labs, Inc.)" into "2109" and "VIA Labs, Inc.".
func spHexID(s string) (id, name string) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "("); i >= 0 && strings.HasSuffix(s, ")") {
		name = strings.TrimSpace(s[i+1 : len(s)-1])
		s = strings.TrimSpace(s[:i])
	}
	s = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if s == "" {
		return "", name
	}
	if n, err := strconv.ParseUint(s, 16, 16); err == nil {
		s = fmt.Sprintf("%04x", n)
	}
	return s, name
}

// spHexText decodes SPD strings system_profiler shows as hex ("0x4D3437...") when printable.
func spHexText(s string) string {
	if !strings.HasPrefix(s, "0x") {
		return s
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return s
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != 0 {
			return s
		}
	}
	return strings.TrimSpace(strings.Trim(string(b), "\x00"))
}

// ---- sections ----

func spHardware(inv *inventory.Inventory, it spItem) {
	s := &inv.System
	s.Manufacturer = "Apple Inc."
	s.Model = spStr(it, "machine_model")
	s.Family = spStr(it, "machine_name")
	s.SKU = spStr(it, "model_number")
	s.Serial = spStr(it, "serial_number")
	s.UUID = spStr(it, "platform_UUID")
	switch {
	case strings.Contains(s.Family, "Book"):
		s.ChassisType = "Laptop"
	case s.Family != "":
		s.ChassisType = "Desktop"
	}
	inv.BIOS.Vendor = "Apple Inc."
	inv.BIOS.Version = spStr(it, "boot_rom_version")
	inv.BIOS.BootType = "uefi"
	inv.Memory.TotalBytes = spSize(spStr(it, "physical_memory"))

	c := inventory.CPU{Model: firstNonEmpty(spStr(it, "chip_type"), spStr(it, "cpu_type"))}
	switch {
	case strings.HasPrefix(c.Model, "Apple"):
		c.Vendor, c.Arch = "Apple", "arm64"
	case strings.Contains(c.Model, "Intel"):
		c.Vendor, c.Arch = "GenuineIntel", "x86_64"
	}
	// Apple silicon: "proc 12:8:4" = total:performance:efficiency cores, one thread each.
	if procs := spStr(it, "number_processors"); strings.HasPrefix(procs, "proc ") {
		total, _, _ := strings.Cut(strings.TrimPrefix(procs, "proc "), ":")
		if n, err := strconv.Atoi(total); err == nil {
			c.Cores, c.Threads = n, n
		}
	} else if n, ok := spNum(it, "number_processors"); ok {
		c.Cores = int(n)
		c.Threads = c.Cores
		if spStr(it, "platform_cpu_htt") == "htt_enabled" {
			c.Threads = 2 * c.Cores
		}
	}
	c.SpeedHz = spSpeed(spStr(it, "current_processor_speed"))
	c.CacheL2Bytes = spSize(spStr(it, "l2_cache_core"))
	c.CacheL3Bytes = spSize(spStr(it, "l3_cache"))
	if c.Model != "" {
		inv.CPUs = append(inv.CPUs, c)
	}
}

var spUserRe = &lazyre.Regexp{Expr: `\(([^()]+)\)\s*$`}

func spSoftwareOverview(inv *inventory.Inventory, it spItem) {
	o := &inv.OS
	o.Family, o.KernelName = "darwin", "darwin"
	// "macOS 14.4.1 (23E224)"
	if v := spStr(it, "os_version"); v != "" {
		name, rest, _ := strings.Cut(v, " ")
		ver, build, _ := strings.Cut(rest, " ")
		o.Name, o.Version, o.Build = name, ver, strings.Trim(build, "()")
	}
	if k := spStr(it, "kernel_version"); k != "" {
		_, o.KernelVersion, _ = strings.Cut(k, " ")
	}
	if m := spUserRe.Get().FindStringSubmatch(spStr(it, "user_name")); m != nil {
		o.LastUser = m[1]
	}
	switch spStr(it, "secure_vm") {
	case "secure_vm_enabled":
		on := true
		inv.BIOS.SecureBoot = &on
	}
}

func spDisplays(inv *inventory.Inventory, it spItem) {
	g := inventory.GPU{
		Name:   spStr(it, "sppci_model"),
		Vendor: strings.TrimPrefix(firstNonEmpty(spStr(it, "spdisplays_vendor"), spStr(it, "sppci_vendor")), "sppci_vendor_"),
	}
	g.MemoryBytes = spSize(firstNonEmpty(spStr(it, "spdisplays_vram"), spStr(it, "spdisplays_vram_shared"), spStr(it, "_spdisplays_vram")))
	if dev, _ := spHexID(spStr(it, "spdisplays_device-id")); dev != "" {
		if ven, _ := spHexID(spStr(it, "spdisplays_vendor-id")); ven != "" {
			g.PCIID = ven + ":" + dev
		}
	}
	if g.Name != "" {
		inv.GPUs = append(inv.GPUs, g)
	}
	for _, d := range spList(it, "spdisplays_ndrvs") {
		m := inventory.Monitor{Name: spStr(d, "_name")}
		if v, err := strconv.ParseUint(spStr(d, "_spdisplays_display-vendor-id"), 16, 16); err == nil {
			m.VendorID = pnpID(uint16(v))
			m.Manufacturer = pnpVendorName(m.VendorID)
		}
		if p := spStr(d, "_spdisplays_display-product-id"); p != "" {
			m.ProductCode = strings.ToUpper(p)
		}
		if y, ok := spNum(d, "_spdisplays_display-year"); ok && y > 1990 {
			m.Year = int(y)
		}
		if w, ok := spNum(d, "_spdisplays_display-week"); ok && w > 0 && w <= 54 {
			m.Week = int(w)
		}
		if sn := spStr(d, "spdisplays_display-serial-number2"); sn != "" {
			m.Serial = sn
		} else if v, err := strconv.ParseUint(spStr(d, "_spdisplays_display-serial-number"), 16, 32); err == nil && v != 0 {
			m.Serial = strconv.FormatUint(v, 10)
		}
		if px := spStr(d, "_spdisplays_pixels"); px != "" {
			w, h, _ := strings.Cut(px, " x ")
			m.WidthPx, _ = strconv.Atoi(strings.TrimSpace(w))
			m.HeightPx, _ = strconv.Atoi(strings.TrimSpace(h))
		}
		if spStr(d, "spdisplays_connection_type") == "spdisplays_internal" {
			m.Port = "internal"
		}
		if m.Name != "" {
			inv.Monitors = append(inv.Monitors, m)
		}
	}
}

func spMemory(inv *inventory.Inventory, it spItem) {
	// Apple silicon: one unified memory entry.
	if size := spStr(it, "SPMemoryDataType"); size != "" {
		inv.Memory.Modules = append(inv.Memory.Modules, inventory.MemoryModule{
			Slot: "unified", SizeBytes: spSize(size), Type: spStr(it, "dimm_type"), Manufacturer: spStr(it, "dimm_manufacturer"),
		})
		inv.Memory.Slots = 1
		return
	}
	for _, d := range spList(it, "_items") {
		inv.Memory.Slots++
		size := spSize(spStr(d, "dimm_size"))
		if size == 0 {
			continue // "empty" slot
		}
		inv.Memory.Modules = append(inv.Memory.Modules, inventory.MemoryModule{
			Slot:         spStr(d, "_name"),
			SizeBytes:    size,
			Type:         spStr(d, "dimm_type"),
			SpeedHz:      spSpeed(spStr(d, "dimm_speed")),
			Manufacturer: spHexText(spStr(d, "dimm_manufacturer")),
			Serial:       strings.TrimPrefix(spStr(d, "dimm_serial_number"), "0x"),
			PartNumber:   spHexText(spStr(d, "dimm_part_number")),
		})
	}
}

func spStorage(inv *inventory.Inventory, items []spItem) {
	seen := map[string]bool{}
	for _, it := range items {
		pd := spMap(it, "physical_drive")
		v := inventory.Volume{
			Mountpoint: spStr(it, "mount_point"),
			Filesystem: spStr(it, "file_system"),
			Label:      spStr(it, "_name"),
			Serial:     spStr(it, "volume_uuid"),
			ReadOnly:   spStr(it, "writable") == "no",
			Disk:       spStr(pd, "device_name"),
		}
		if bsd := spStr(it, "bsd_name"); bsd != "" {
			v.Device = "/dev/" + bsd
		}
		if n, ok := spNum(it, "size_in_bytes"); ok {
			v.TotalBytes = uint64(n)
		}
		if n, ok := spNum(it, "free_space_in_bytes"); ok {
			v.FreeBytes = uint64(n)
		}
		inv.Volumes = append(inv.Volumes, v)
		if name := spStr(pd, "device_name"); name != "" && !seen[name] {
			seen[name] = true
			d := inventory.Disk{
				Name:      name,
				Model:     name,
				Type:      spStr(pd, "medium_type"),
				Interface: spStr(pd, "protocol"),
				Removable: spStr(pd, "is_internal_disk") == "no",
			}
			if h := spStr(pd, "smart_status"); h == "Verified" || h == "Failing" {
				ok := h == "Verified"
				d.SmartHealthy = &ok
			}
			inv.Disks = append(inv.Disks, d)
		}
	}
}

func spNetwork(it spItem) inventory.Network {
	n := inventory.Network{Name: firstNonEmpty(spStr(it, "interface"), spStr(it, "_name")), Description: spStr(it, "_name")}
	if mac, err := net.ParseMAC(spStr(spMap(it, "Ethernet"), "MAC Address")); err == nil {
		n.MAC = mac.String()
	}
	switch hw := spStr(it, "hardware"); {
	case hw == "AirPort" || hw == "Wi-Fi":
		n.Type = "wifi"
	case strings.HasPrefix(n.Name, "bridge"):
		n.Type, n.Virtual = "bridge", true
	case hw == "Ethernet":
		n.Type = "ethernet"
	case hw != "":
		n.Type = strings.ToLower(hw)
	}
	v4 := spMap(it, "IPv4")
	masks := spStrings(v4, "SubnetMasks")
	for i, a := range spStrings(v4, "Addresses") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		bits := 32
		if i < len(masks) {
			if m := net.ParseIP(masks[i]).To4(); m != nil {
				bits, _ = net.IPMask(m).Size()
			}
		}
		n.IPv4 = append(n.IPv4, ipv4WithPrefix(netip.PrefixFrom(addr, bits)))
	}
	n.Gateway = spStr(v4, "Router")
	n.DHCP = spStr(v4, "ConfigMethod") == "DHCP"
	v6 := spMap(it, "IPv6")
	prefixes, _ := v6["PrefixLength"].([]any)
	for i, a := range spStrings(v6, "Addresses") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		bits := 64
		if i < len(prefixes) {
			if f, ok := prefixes[i].(float64); ok {
				bits = int(f)
			}
		}
		p := netip.PrefixFrom(addr, bits)
		n.IPv6 = append(n.IPv6, inventory.IPAddr{Address: addr.String(), Prefix: bits, Subnet: p.Masked().Addr().String()})
	}
	n.Gateway6 = spStr(v6, "Router")
	n.DNS = spStrings(spMap(it, "DNS"), "ServerAddresses")
	if n.DHCP {
		n.DHCPServer = spStr(spMap(it, "dhcp"), "dhcp_server_identifier")
	}
	n.Up = len(n.IPv4) > 0 || len(n.IPv6) > 0
	return n
}

func spBattery(it spItem) inventory.Battery {
	model := spMap(it, "sppower_battery_model_info")
	charge := spMap(it, "sppower_battery_charge_info")
	b := inventory.Battery{
		Name:         "Battery",
		Manufacturer: spStr(model, "sppower_battery_manufacturer"),
		Model:        spStr(model, "sppower_battery_device_name"),
		Serial:       spStr(model, "sppower_battery_serial_number"),
		Chemistry:    "Li-ion",
	}
	if c, ok := spNum(charge, "sppower_battery_state_of_charge"); ok {
		b.Charge = c
	}
	switch {
	case spStr(charge, "sppower_battery_fully_charged") == "TRUE":
		b.Status = "full"
	case spStr(charge, "sppower_battery_is_charging") == "TRUE":
		b.Status = "charging"
	default:
		b.Status = "discharging"
	}
	return b
}

// spUSB walks the nested USB tree: buses hold devices, hubs hold more devices.
func spUSB(inv *inventory.Inventory, it spItem) {
	vid, vname := spHexID(firstNonEmpty(spStr(it, "vendor_id"), spStr(it, "USBDeviceKeyVendorID")))
	pid, _ := spHexID(firstNonEmpty(spStr(it, "product_id"), spStr(it, "USBDeviceKeyProductID")))
	if vid != "" {
		serial := firstNonEmpty(spStr(it, "serial_num"), spStr(it, "USBDeviceKeySerialNumber"))
		if strings.Trim(serial, "0") == "" {
			serial = ""
		}
		inv.USB = append(inv.USB, inventory.USBDevice{
			Name:         firstNonEmpty(spStr(it, "USBDeviceKeyProductName"), spStr(it, "_name")),
			VendorID:     vid,
			ProductID:    pid,
			Manufacturer: firstNonEmpty(spStr(it, "manufacturer"), spStr(it, "USBDeviceKeyVendorName"), vname),
			Serial:       serial,
			Bus:          "usb",
		})
	}
	for _, child := range spList(it, "_items") {
		spUSB(inv, child)
	}
}

// inputsFromUSB picks the keyboards and pointing devices out of the USB list by name (what
// system_profiler gives for them; built-in SPI keyboards of Apple laptops are not USB).
func inputsFromUSB(usb []inventory.USBDevice) []inventory.InputDevice {
	var out []inventory.InputDevice
	for _, u := range usb {
		n := strings.ToLower(u.Name)
		d := inventory.InputDevice{Name: u.Name, Manufacturer: u.Manufacturer, Interface: "USB"}
		switch {
		case strings.Contains(n, "keyboard"):
			d.Type = "keyboard"
		case strings.Contains(n, "mouse") || strings.Contains(n, "trackpad") || strings.Contains(n, "trackball"):
			d.Type = "pointing"
		default:
			continue
		}
		out = append(out, d)
	}
	return out
}

var spSignerRe = &lazyre.Regexp{Expr: `^Developer ID Application: (.+?)(?: \([A-Z0-9]+\))?$`}

func spApplication(it spItem) (inventory.Software, bool) {
	s := inventory.Software{
		Name:        spStr(it, "_name"),
		Version:     spStr(it, "version"),
		Source:      "app",
		InstallPath: spStr(it, "path"),
		Comment:     spStr(it, "info"),
	}
	if s.Name == "" {
		return s, false
	}
	// lastModified is the bundle's change time: the install or last update date.
	if t, err := time.Parse(time.RFC3339, spStr(it, "lastModified")); err == nil {
		s.InstallDate = t.UTC()
	}
	s.Arch = map[string]string{
		"arch_arm_i64": "universal", "arch_arm": "arm64", "arch_i64": "x86_64", "arch_i32_i64": "x86_64", "arch_ios": "arm64", "arch_i32": "i386",
	}[spStr(it, "arch_kind")]
	switch spStr(it, "obtained_from") {
	case "apple":
		s.Publisher, s.System = "Apple Inc.", true
	default:
		if signers := spStrings(it, "signed_by"); len(signers) > 0 {
			if m := spSignerRe.Get().FindStringSubmatch(signers[0]); m != nil {
				s.Publisher = m[1]
			}
		}
	}
	if rest, ok := strings.CutPrefix(s.InstallPath, "/Users/"); ok {
		s.User, _, _ = strings.Cut(rest, "/")
	}
	return s, true
}

func spPrinter(it spItem) (inventory.Printer, bool) {
	uri := spStr(it, "uri")
	p := inventory.Printer{
		Name:    spStr(it, "_name"),
		Driver:  spStr(it, "ppd"),
		Port:    redactURI(uri),
		Status:  spStr(it, "status"),
		Default: spStr(it, "default") == "yes",
		Shared:  spStr(it, "shared") == "yes",
	}
	if p.Name == "" || uri == "" {
		return p, false // "no_info_found" placeholder
	}
	scheme, _, _ := strings.Cut(uri, ":")
	switch scheme {
	case "ipp", "ipps", "http", "https", "socket", "lpd", "smb", "dnssd", "mdns":
		p.Network = true
	}
	return p, true
}

// ---- one shared run ----

// sysProfiler runs system_profiler once for all the categories that read it: concurrent callers
// wait for the same run and a result younger than maxAge is reused. The run has its own
// deadline, longer than one category's, so a slow first run still fills the cache for the next
// collection when the categories that asked for it have given up.
// systemProfilerTimeout bounds one system_profiler run (applications make it slow).
const systemProfilerTimeout = 2 * time.Minute

type sysProfiler struct {
	run     func(ctx context.Context) ([]byte, error)
	timeout time.Duration
	maxAge  time.Duration
	now     func() time.Time

	mu      sync.Mutex
	at      time.Time
	inv     *inventory.Inventory
	err     error
	running chan struct{} // closed when the current run ends
}

func newSysProfiler(run func(ctx context.Context) ([]byte, error)) *sysProfiler {
	return &sysProfiler{run: run, timeout: systemProfilerTimeout, maxAge: 10 * time.Minute, now: time.Now}
}

// get returns the parsed output (shared: callers copy what they need and must not modify it).
func (s *sysProfiler) get(ctx context.Context) (*inventory.Inventory, error) {
	s.mu.Lock()
	if s.running == nil && (s.at.IsZero() || s.now().Sub(s.at) >= s.maxAge) {
		done := make(chan struct{})
		s.running = done
		go func() {
			rctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			defer cancel()
			out, err := s.run(rctx)
			var inv *inventory.Inventory
			if err == nil {
				inv, err = parseSysProfiler(out)
			}
			s.mu.Lock()
			s.inv, s.err, s.at, s.running = inv, err, s.now(), nil
			s.mu.Unlock()
			close(done)
		}()
	}
	wait := s.running
	s.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("system_profiler: %w", ctx.Err())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, fmt.Errorf("system_profiler: %w", s.err)
	}
	return s.inv, nil
}
