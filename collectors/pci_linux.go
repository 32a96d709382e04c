package collectors

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/omniagent/omniagent/inventory"
)

// pciDevice is one /sys/bus/pci/devices entry.
type pciDevice struct {
	Slot, Class, Vendor, Device, SubVendor, SubDevice, Driver string
	Revision                                                  string
	VendorName, DeviceName                                    string
	Dir                                                       string
}

const pciDir = "/sys/bus/pci/devices"

// pciDevices lists PCI functions, keeping those whose class starts with one of classPrefixes
// (hex, without 0x; none keeps all), and names them from pci.ids when it is installed. The
// bus is read once per collection: controllers, gpu, sounds and modems each filter it.
func pciDevices(ctx context.Context, classPrefixes ...string) ([]pciDevice, error) {
	all := shared(ctx, "pci devices", func() pciScan {
		devs, err := scanPCI(ctx)
		return pciScan{devs, err}
	})
	if all.devs == nil {
		return nil, all.err
	}
	var out []pciDevice
	for _, d := range all.devs {
		keep := len(classPrefixes) == 0
		for _, p := range classPrefixes {
			keep = keep || strings.HasPrefix(d.Class, p)
		}
		if keep {
			out = append(out, d)
		}
	}
	return out, all.err
}

// pciScan is the bus as scanPCI read it; callers copy the devices they keep.
type pciScan struct {
	devs []pciDevice
	err  error
}

func scanPCI(ctx context.Context) ([]pciDevice, error) {
	entries, err := readDir(pciDir)
	if err != nil {
		return nil, err
	}
	out := make([]pciDevice, 0, len(entries))
	for _, e := range entries {
		if ctx.Err() != nil {
			namePCI(out)
			return out, ctx.Err()
		}
		out = append(out, readPCIDevice(filepath.Join(pciDir, e.Name())))
	}
	namePCI(out)
	return out, nil
}

// readPCIDevice reads one function's ids from its uevent (class, ids, subsystem ids and
// driver in one file) and its revision: two sysfs opens instead of six and a readlink. A
// uevent without the ids (not seen) falls back to the attribute files.
func readPCIDevice(dir string) pciDevice {
	d := pciDevice{Slot: filepath.Base(dir), Dir: dir}
	hex := func(f string) string { return strings.TrimPrefix(readStr(filepath.Join(dir, f)), "0x") }
	var buf [512]byte
	b, err := readProcFile(filepath.Join(dir, "uevent"), buf[:0])
	if err != nil || !parsePCIUevent(b, &d) {
		d.Class, d.Vendor, d.Device = hex("class"), hex("vendor"), hex("device")
		d.SubVendor, d.SubDevice = hex("subsystem_vendor"), hex("subsystem_device")
		d.Driver = ""
		if l, err := os.Readlink(filepath.Join(dir, "driver")); err == nil {
			d.Driver = filepath.Base(l)
		}
	}
	d.Revision = hex("revision")
	return d
}

// parsePCIUevent fills class, vendor, device, subsystem ids and driver from a PCI function's
// uevent ("PCI_CLASS=20000", "PCI_ID=1AF4:1041"), in the attribute files' form ("020000",
// "1af4", "1041"); false when an id is missing or malformed.
func parsePCIUevent(b []byte, d *pciDevice) bool {
	var class, id, subsys bool
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte("="))
		if !ok {
			continue
		}
		switch string(k) {
		case "DRIVER":
			d.Driver = string(v)
		case "PCI_CLASS":
			n, err := strconv.ParseUint(string(v), 16, 32)
			if err != nil || n > 0xffffff {
				return false
			}
			d.Class, class = fmt.Sprintf("%06x", n), true
		case "PCI_ID", "PCI_SUBSYS_ID":
			ven, dev, ok := bytes.Cut(v, []byte(":"))
			if !ok || len(ven) != 4 || len(dev) != 4 || !isHex4(bytes.ToLower(ven)) || !isHex4(bytes.ToLower(dev)) {
				return false
			}
			if string(k) == "PCI_ID" {
				d.Vendor, d.Device, id = strings.ToLower(string(ven)), strings.ToLower(string(dev)), true
			} else {
				d.SubVendor, d.SubDevice, subsys = strings.ToLower(string(ven)), strings.ToLower(string(dev)), true
			}
		}
	}
	return class && id && subsys
}

// namePCI fills vendor and device names from pci.ids, else from a short built-in vendor list.
func namePCI(devs []pciDevice) {
	if len(devs) == 0 {
		return
	}
	if ids := readPCIIDs(); ids != nil {
		names := ids.lookup(devs)
		ids.close()
		for i := range devs {
			devs[i].VendorName = names[devs[i].Vendor]
			devs[i].DeviceName = names[devs[i].Vendor+":"+devs[i].Device]
		}
	}
	for i := range devs {
		if devs[i].VendorName == "" {
			devs[i].VendorName, _ = pciVendors.get(devs[i].Vendor)
		}
		if devs[i].DeviceName == "" {
			devs[i].DeviceName, _ = pciDeviceNames.get(devs[i].Vendor + ":" + devs[i].Device)
		}
	}
}

// readPCIIDs maps the first pci.ids installed (about 1.3 MB), nil when there is none. Mapped
// rather than read: the binary search touches a few pages of it, not 1.3 MB of heap. Package
// managers replace the file by renaming a new one over it, so the mapped inode never shrinks
// under us. close unmaps it as soon as the names are found: the pages the search touched
// (half a megabyte with the kernel's fault-around) would otherwise count in the peak RSS
// until the process exits.
func readPCIIDs() *pciIDs {
	for _, path := range []string{"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"} {
		b, unmap, err := mapFile(path)
		if err != nil {
			continue
		}
		ids := newPCIIDs(b)
		ids.unmap = unmap
		return ids
	}
	return nil
}

// mapFile maps a file read-only; unmap is nil when it fell back to reading it (empty file,
// mmap refused).
func mapFile(path string) (b []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := fi.Size(); size > 0 && size < 64<<20 {
		if m, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
			return m, func() { _ = syscall.Munmap(m) }, nil
		}
	}
	b, err = io.ReadAll(io.LimitReader(f, 64<<20))
	return b, nil, err
}

// pciIDs is a pci.ids file with the vendor blocks found so far (categories name the same
// vendors: one search per vendor and collection).
type pciIDs struct {
	ids    []byte
	unmap  func() // nil when read into memory
	mu     sync.Mutex
	blocks map[string]pciBlock
}

// close releases the mapping; the names looked up are copies and stay valid.
func (p *pciIDs) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unmap != nil {
		p.unmap()
		p.unmap, p.ids = nil, nil
	}
}

// pciBlock is a vendor's name and its device lines; nil lines when the vendor is unknown.
type pciBlock struct {
	name  string
	lines []byte
}

// newPCIIDs indexes nothing up front: the device classes after the vendors ("C 03", "\t00")
// never look like a vendor line, and the last vendor's block ends at the first of them.
func newPCIIDs(b []byte) *pciIDs {
	return &pciIDs{ids: b, blocks: map[string]pciBlock{}}
}

// lookup finds the vendors and devices wanted: "vendor" and "vendor:device" keys.
func (p *pciIDs) lookup(devs []pciDevice) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for _, d := range devs {
		if len(d.Vendor) != 4 {
			continue
		}
		b, ok := p.blocks[d.Vendor]
		if !ok {
			b.lines, b.name = pciVendorBlock(p.ids, d.Vendor)
			p.blocks[d.Vendor] = b
		}
		if b.lines == nil {
			continue
		}
		out[d.Vendor] = b.name
		if n := pciDeviceLine(b.lines, d.Device); n != "" && len(d.Device) == 4 {
			out[d.Vendor+":"+d.Device] = n
		}
	}
	return out
}

// pciDeviceNames covers the virtual devices of common hypervisors for hosts without pci.ids.
var pciDeviceNames = pairs{
	{"1af4:1000", "Virtio network device"}, {"1af4:1001", "Virtio block device"},
	{"1af4:1002", "Virtio memory balloon"}, {"1af4:1003", "Virtio console"},
	{"1af4:1004", "Virtio SCSI"}, {"1af4:1005", "Virtio RNG"}, {"1af4:1009", "Virtio filesystem"},
	{"1af4:1041", "Virtio 1.0 network device"}, {"1af4:1042", "Virtio 1.0 block device"},
	{"1af4:1043", "Virtio 1.0 console"}, {"1af4:1044", "Virtio 1.0 RNG"},
	{"1af4:1045", "Virtio 1.0 memory balloon"}, {"1af4:1048", "Virtio 1.0 SCSI"},
	{"1af4:1049", "Virtio 1.0 9P transport"}, {"1af4:1050", "Virtio 1.0 GPU"},
	{"1af4:1052", "Virtio 1.0 input"}, {"1af4:1053", "Virtio 1.0 socket"},
	{"1234:1111", "QEMU Standard VGA"}, {"15ad:0405", "SVGA II Adapter"},
	{"80ee:beef", "VirtualBox Graphics Adapter"}, {"1414:5353", "Hyper-V virtual VGA"},
	{"1b36:0100", "QXL paravirtual graphic card"},
}

// lookupPCIIDs finds the vendors and devices wanted in a pci.ids file.
func lookupPCIIDs(ids []byte, devs []pciDevice) map[string]string {
	return newPCIIDs(ids).lookup(devs)
}

// pciVendorBlock returns the vendor's name and its device lines (up to the next vendor).
func pciVendorBlock(ids []byte, vendor string) (block []byte, name string) {
	at := pciFindVendor(ids, vendor)
	if at < 0 {
		return nil, ""
	}
	rest := ids[at:]
	eol := bytes.IndexByte(rest, '\n')
	if eol < 0 {
		eol = len(rest)
	}
	name = strings.TrimSpace(string(rest[len(vendor):eol]))
	rest = rest[eol:]
	// The block runs until a line that starts with neither a tab nor a comment.
	end := 0 // rest[end] is a newline; the line after it starts at end+1
	for end < len(rest) {
		if end+1 < len(rest) && rest[end+1] != '\t' && rest[end+1] != '#' && rest[end+1] != '\n' {
			break
		}
		nl := bytes.IndexByte(rest[end+1:], '\n')
		if nl < 0 {
			end = len(rest)
			break
		}
		end += 1 + nl
	}
	return rest[:end], name
}

// pciFindVendor returns the offset of the vendor's line. pci.ids lists vendors in ascending
// order, so a binary search over the bytes finds it in some twenty probes; a file out of
// order falls back to a linear search.
func pciFindVendor(ids []byte, vendor string) int {
	lo, hi := 0, len(ids) // the vendor's line, if any, starts in [lo, hi)
	for lo < hi {
		mid := lo + (hi-lo)/2
		at := pciNextVendorLine(ids, mid, hi)
		if at < 0 {
			hi = mid
			continue
		}
		switch id := string(ids[at : at+4]); {
		case id == vendor:
			return at
		case id < vendor:
			lo = at + 1
		default:
			hi = mid
		}
	}
	if bytes.HasPrefix(ids, []byte(vendor+" ")) {
		return 0
	}
	if i := bytes.Index(ids, []byte("\n"+vendor+" ")); i >= 0 {
		return i + 1
	}
	return -1
}

// pciNextVendorLine is the offset of the first vendor line ("1af4  Red Hat, Inc.") starting
// at or after from and before limit, -1 when there is none. The binary search passes its
// upper bound, so a probe inside a long block (Intel's has thousands of lines) stops there.
func pciNextVendorLine(ids []byte, from, limit int) int {
	p := from
	if p > 0 && ids[p-1] != '\n' {
		nl := bytes.IndexByte(ids[p:], '\n')
		if nl < 0 {
			return -1
		}
		p += nl + 1
	}
	for p < limit {
		if p+5 <= len(ids) && ids[p+4] == ' ' && isHex4(ids[p:p+4]) {
			return p
		}
		nl := bytes.IndexByte(ids[p:], '\n')
		if nl < 0 {
			return -1
		}
		p += nl + 1
	}
	return -1
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// pciDeviceLine finds "\tdddd  name" in a vendor block (not the "\t\t" subsystem lines).
func pciDeviceLine(block []byte, device string) string {
	i := bytes.Index(block, []byte("\n\t"+device+" "))
	if i < 0 {
		return ""
	}
	line := block[i+2+len(device):]
	if eol := bytes.IndexByte(line, '\n'); eol >= 0 {
		line = line[:eol]
	}
	return strings.TrimSpace(string(line))
}

var pciVendors = pairs{
	{"8086", "Intel Corporation"}, {"10de", "NVIDIA Corporation"},
	{"1002", "Advanced Micro Devices, Inc. [AMD/ATI]"},
	{"1022", "Advanced Micro Devices, Inc. [AMD]"}, {"1af4", "Red Hat, Inc."},
	{"1b36", "Red Hat, Inc."}, {"1234", "QEMU"}, {"15ad", "VMware"},
	{"80ee", "InnoTek Systemberatung GmbH"}, {"1414", "Microsoft Corporation"},
	{"10ec", "Realtek Semiconductor Co., Ltd."}, {"14e4", "Broadcom Inc."},
	{"144d", "Samsung Electronics Co Ltd"}, {"15b3", "Mellanox Technologies"},
	{"1d0f", "Amazon.com, Inc."}, {"1ae0", "Google, Inc."}, {"5853", "XenSource, Inc."},
	{"102b", "Matrox Electronics Systems Ltd."}, {"1a03", "ASPEED Technology, Inc."},
	{"168c", "Qualcomm Atheros"}, {"17cb", "Qualcomm"}, {"106b", "Apple Inc."},
}

// pciClassName names a PCI class code ("030000").
func pciClassName(class string) string {
	if len(class) < 4 {
		return ""
	}
	if n, ok := pciSubclasses.get(class[:4]); ok {
		return n
	}
	n, _ := pciClasses.get(class[:2])
	return n
}

// pciClassCode is the class and subclass ("0600") of a sysfs class value ("060000").
func pciClassCode(class string) string {
	if len(class) < 4 {
		return ""
	}
	return class[:4]
}

var pciClasses = pairs{
	{"00", "Unclassified device"}, {"01", "Mass storage controller"}, {"02", "Network controller"},
	{"03", "Display controller"}, {"04", "Multimedia controller"}, {"05", "Memory controller"},
	{"06", "Bridge"}, {"07", "Communication controller"}, {"08", "Generic system peripheral"},
	{"09", "Input device controller"}, {"0a", "Docking station"}, {"0b", "Processor"},
	{"0c", "Serial bus controller"}, {"0d", "Wireless controller"}, {"0e", "Intelligent controller"},
	{"0f", "Satellite communications controller"}, {"10", "Encryption controller"},
	{"11", "Signal processing controller"}, {"12", "Processing accelerators"},
	{"13", "Non-Essential Instrumentation"}, {"40", "Coprocessor"}, {"ff", "Unassigned class"},
}

var pciSubclasses = pairs{
	{"0100", "SCSI storage controller"}, {"0101", "IDE interface"}, {"0104", "RAID bus controller"},
	{"0106", "SATA controller"}, {"0107", "Serial Attached SCSI controller"},
	{"0108", "Non-Volatile memory controller"}, {"0200", "Ethernet controller"},
	{"0280", "Network controller"}, {"0300", "VGA compatible controller"}, {"0302", "3D controller"},
	{"0380", "Display controller"}, {"0401", "Multimedia audio controller"}, {"0403", "Audio device"},
	{"0600", "Host bridge"}, {"0601", "ISA bridge"}, {"0604", "PCI bridge"}, {"0680", "Bridge"},
	{"0c03", "USB controller"}, {"0c05", "SMBus"}, {"0c80", "Serial bus controller"},
	{"0d80", "Wireless controller"}, {"0780", "Communication controller"},
	{"0880", "System peripheral"},
}

func collectControllers(ctx context.Context, inv *inventory.Inventory) error {
	devs, err := pciDevices(ctx)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // no PCI bus (some ARM boards, containers without /sys)
		}
		return err
	}
	for _, d := range devs {
		name := d.DeviceName
		if name == "" {
			name = strings.TrimSpace(firstSet(pciClassName(d.Class), "PCI device") + " " + d.Vendor + ":" + d.Device)
		}
		inv.Controllers = append(inv.Controllers, inventory.Controller{
			Name: name, Manufacturer: d.VendorName, Type: pciClassName(d.Class),
			PCIID: d.Vendor + ":" + d.Device, PCISlot: d.Slot, Driver: d.Driver,
			SubsystemID: d.SubVendor + ":" + d.SubDevice, Class: pciClassCode(d.Class), Revision: d.Revision,
		})
	}
	return nil
}

func collectGPU(ctx context.Context, inv *inventory.Inventory) error {
	devs, err := pciDevices(ctx, "03")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, d := range devs {
		g := inventory.GPU{Name: d.DeviceName, Vendor: d.VendorName, Driver: d.Driver, PCISlot: d.Slot, PCIID: d.Vendor + ":" + d.Device}
		if g.Name == "" {
			g.Name = strings.TrimSpace(d.VendorName + " " + pciClassName(d.Class))
		}
		g.MemoryBytes = readUint(filepath.Join(d.Dir, "mem_info_vram_total")) // amdgpu
		if g.Driver != "" {
			g.DriverVer = readStr(filepath.Join("/sys/module", g.Driver, "version"))
		}
		inv.GPUs = append(inv.GPUs, g)
	}
	// Devices without PCI (ARM SoCs) show up only as DRM cards.
	if len(devs) == 0 {
		cards, _ := filepath.Glob("/sys/class/drm/card[0-9]")
		for _, c := range cards {
			drv := ""
			if l, err := os.Readlink(filepath.Join(c, "device", "driver")); err == nil {
				drv = filepath.Base(l)
			}
			if drv != "" {
				inv.GPUs = append(inv.GPUs, inventory.GPU{Name: drv, Driver: drv})
			}
		}
	}
	return nil
}
