package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectDisks lists whole block devices from /sys/block, leaving out the virtual ones that
// are not disks (loop, ram, zram, device-mapper, md arrays are volumes).
func collectDisks(ctx context.Context, inv *inventory.Inventory) error {
	entries, err := readDir("/sys/block")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d, ok := sysDisk(e.Name()); ok {
			inv.Disks = append(inv.Disks, d)
		}
	}
	return nil
}

func sysDisk(name string) (inventory.Disk, bool) {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "nbd", "fd"} {
		if strings.HasPrefix(name, p) {
			return inventory.Disk{}, false
		}
	}
	dir := filepath.Join("/sys/block", name)
	dev := filepath.Join(dir, "device")
	d := inventory.Disk{Name: name, SizeBytes: readUint(filepath.Join(dir, "size")) * 512}
	d.Model = firstSet(readStr(filepath.Join(dev, "model")), readStr(filepath.Join(dir, "device", "name")))
	d.Vendor = CleanDMI(readStr(filepath.Join(dev, "vendor")))
	if strings.HasPrefix(d.Vendor, "0x") {
		// virtio: the ids are the virtio device's; the PCI function above it names the model.
		d.Vendor, _ = pciVendors.get(strings.TrimPrefix(d.Vendor, "0x"))
		if real, err := filepath.EvalSymlinks(dev); err == nil && d.Model == "" {
			pdir := filepath.Dir(real)
			id := strings.TrimPrefix(readStr(filepath.Join(pdir, "vendor")), "0x") + ":" + strings.TrimPrefix(readStr(filepath.Join(pdir, "device")), "0x")
			d.Model, _ = pciDeviceNames.get(id)
		}
	}
	d.Serial = firstSet(readStr(filepath.Join(dev, "serial")), readStr(filepath.Join(dir, "serial")), vpdSerial(filepath.Join(dev, "vpd_pg80")))
	d.Firmware = firstSet(readStr(filepath.Join(dev, "firmware_rev")), readStr(filepath.Join(dev, "rev")))
	d.WWN = firstSet(readStr(filepath.Join(dir, "wwid")), readStr(filepath.Join(dev, "wwid")))
	d.Removable = readStr(filepath.Join(dir, "removable")) == "1"
	link, _ := os.Readlink(dir)
	d.Interface = diskInterface(name, link)
	rotational := readStr(filepath.Join(dir, "queue", "rotational")) == "1"
	switch {
	case strings.HasPrefix(name, "sr"):
		d.Type = "optical"
	case d.Interface == "NVMe":
		d.Type = "nvme"
	case d.Interface == "virtio" || d.Interface == "Xen" || strings.Contains(strings.ToLower(d.Model+d.Vendor), "virtual"):
		d.Type = "virtual"
	case rotational:
		d.Type = "hdd"
	default:
		d.Type = "ssd"
	}
	return d, true
}

// diskInterface tells the bus from the device's sysfs path.
func diskInterface(name, link string) string {
	switch {
	case strings.HasPrefix(name, "nvme") || strings.Contains(link, "/nvme/"):
		return "NVMe"
	case strings.Contains(link, "/usb"):
		return "USB"
	case strings.HasPrefix(name, "vd") || strings.Contains(link, "/virtio"):
		return "virtio"
	case strings.HasPrefix(name, "xvd"):
		return "Xen"
	case strings.HasPrefix(name, "mmcblk"):
		return "MMC"
	case strings.Contains(link, "/ata"):
		return "SATA"
	case strings.Contains(link, "/host"):
		return "SCSI"
	}
	return ""
}

// vpdSerial reads the unit serial number from SCSI VPD page 0x80: 4 header bytes then ASCII.
func vpdSerial(path string) string {
	b, err := readFile(path)
	if err != nil || len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := int(b[2])<<8 | int(b[3])
	if 4+n > len(b) {
		n = len(b) - 4
	}
	return strings.TrimSpace(cString(b[4 : 4+n]))
}
