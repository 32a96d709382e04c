package collectors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// parseStorageDeviceDescriptor decodes the STORAGE_DEVICE_DESCRIPTOR that Windows'
// IOCTL_STORAGE_QUERY_PROPERTY(StorageDeviceProperty) returns for \\.\PhysicalDriveN:
// vendor, product, revision and serial as offsets to NUL-terminated strings, the bus type and
// the removable flag. Offsets pointing outside the buffer are ignored.
func parseStorageDeviceDescriptor(b []byte) (inventory.Disk, error) {
	var d inventory.Disk
	if len(b) < 36 {
		return d, fmt.Errorf("parse storage device descriptor: %d bytes, want at least 36", len(b))
	}
	le := binary.LittleEndian
	if size := le.Uint32(b[4:]); int(size) < len(b) && size >= 36 {
		b = b[:size] // the buffer may be larger than the descriptor
	}
	str := func(off uint32) string {
		if off == 0 || int(off) >= len(b) {
			return ""
		}
		s := b[off:]
		if i := indexZero(s); i >= 0 {
			s = s[:i]
		}
		return strings.TrimSpace(strings.ToValidUTF8(string(s), ""))
	}
	d.Removable = b[10] != 0
	d.Vendor = str(le.Uint32(b[12:]))
	d.Model = str(le.Uint32(b[16:]))
	d.Firmware = str(le.Uint32(b[20:]))
	d.Serial = str(le.Uint32(b[24:]))
	d.Interface = storageBusName(le.Uint32(b[28:]))
	if d.Vendor != "" && !strings.HasPrefix(d.Model, d.Vendor) {
		d.Model = strings.TrimSpace(d.Vendor + " " + d.Model)
	}
	if d.Model == "" && d.Serial == "" && d.Interface == "" {
		return d, errors.New("parse storage device descriptor: no identifying field")
	}
	switch d.Interface {
	case "NVMe":
		d.Type = "nvme"
	case "Virtual", "FileBackedVirtual":
		d.Type = "virtual"
	}
	if b[8] == 0x05 { // DeviceType: CD/DVD
		d.Type = "optical"
	}
	return d, nil
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// storageBusName names STORAGE_BUS_TYPE values.
func storageBusName(t uint32) string {
	names := []string{0: "", 1: "SCSI", 2: "ATAPI", 3: "ATA", 4: "IEEE1394", 5: "SSA", 6: "Fibre",
		7: "USB", 8: "RAID", 9: "iSCSI", 10: "SAS", 11: "SATA", 12: "SD", 13: "MMC", 14: "Virtual",
		15: "FileBackedVirtual", 16: "Spaces", 17: "NVMe", 18: "SCM", 19: "UFS"}
	if int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("bus %d", t)
}

// winDriveTypeName names GetDriveType results for volumes.
func winDriveTypeName(t uint32) string {
	switch t {
	case 2:
		return "removable"
	case 3:
		return "fixed"
	case 4:
		return "network"
	case 5:
		return "cdrom"
	case 6:
		return "ramdisk"
	}
	return ""
}
