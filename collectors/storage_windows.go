package collectors

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/omniagent/omniagent/inventory"
)

const (
	ioctlStorageQueryProperty        = 0x2D1400
	ioctlDiskGetDriveGeometryEx      = 0x700A0
	ioctlVolumeGetVolumeDiskExtents  = 0x560000
	storageDeviceProperty            = 0
	storageDeviceSeekPenaltyProperty = 7
	maxPhysicalDrives                = 64
	volumeQueryTimeout               = 3 * time.Second
)

// winCollectDisks opens \\.\PhysicalDriveN without read access (enough for these IOCTLs) and
// asks for the device descriptor (model, serial, bus), the seek penalty (SSD or HDD) and the
// size. Numbers can have gaps after a disk is removed: the walk stops after 8 missing ones.
func winCollectDisks(ctx context.Context, inv *inventory.Inventory) error {
	misses := 0
	var openErr error
	for i := 0; i < maxPhysicalDrives && misses < 8; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := fmt.Sprintf(`\\.\PhysicalDrive%d`, i)
		h, err := openDevice(name)
		if err != nil {
			if !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) && openErr == nil {
				openErr = fmt.Errorf("open %s: %w", name, err)
			}
			misses++
			continue
		}
		misses = 0
		d := diskInfo(h)
		windows.CloseHandle(h)
		d.Name = name
		inv.Disks = append(inv.Disks, d)
	}
	if len(inv.Disks) == 0 && openErr != nil {
		return fmt.Errorf("physical disks: %w", openErr)
	}
	return nil
}

func openDevice(path string) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, err
	}
	return windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
}

func storageQuery(h windows.Handle, property uint32, out []byte) (int, error) {
	// STORAGE_PROPERTY_QUERY: PropertyId, QueryType (standard), AdditionalParameters.
	var q [12]byte
	binary.LittleEndian.PutUint32(q[0:], property)
	var n uint32
	err := windows.DeviceIoControl(h, ioctlStorageQueryProperty, &q[0], uint32(len(q)), &out[0], uint32(len(out)), &n, nil)
	return int(n), err
}

func diskInfo(h windows.Handle) inventory.Disk {
	var d inventory.Disk
	buf := make([]byte, 4096)
	if n, err := storageQuery(h, storageDeviceProperty, buf); err == nil {
		if pd, err := parseStorageDeviceDescriptor(buf[:n]); err == nil {
			d = pd
		}
	}
	// DEVICE_SEEK_PENALTY_DESCRIPTOR: Version, Size, IncursSeekPenalty.
	var sp [12]byte
	if n, err := storageQuery(h, storageDeviceSeekPenaltyProperty, sp[:]); err == nil && n >= 9 && d.Type == "" {
		if sp[8] != 0 {
			d.Type = "hdd"
		} else {
			d.Type = "ssd"
		}
	}
	// DISK_GEOMETRY_EX: DISK_GEOMETRY (24 bytes) then DiskSize.
	geo := make([]byte, 256)
	var n uint32
	if err := windows.DeviceIoControl(h, ioctlDiskGetDriveGeometryEx, nil, 0, &geo[0], uint32(len(geo)), &n, nil); err == nil && n >= 32 {
		d.SizeBytes = binary.LittleEndian.Uint64(geo[24:])
	}
	return d
}

// winCollectVolumes lists drive letters: type, label, serial, filesystem, size and free space,
// the physical disk below, and BitLocker protection (WMI, best effort). A volume whose query
// hangs (a disconnected network drive) is skipped after a few seconds.
func winCollectVolumes(ctx context.Context, inv *inventory.Inventory) error {
	mask, err := windows.GetLogicalDrives()
	if err != nil {
		return fmt.Errorf("GetLogicalDrives: %w", err)
	}
	for i := range 26 {
		if mask&(1<<i) == 0 {
			continue
		}
		letter := string(rune('A'+i)) + ":"
		if v, ok := volumeInfoBounded(ctx, letter); ok {
			inv.Volumes = append(inv.Volumes, v)
		}
	}
	applyBitLocker(ctx, inv.Volumes)
	return nil
}

func volumeInfoBounded(ctx context.Context, letter string) (inventory.Volume, bool) {
	type res struct {
		v  inventory.Volume
		ok bool
	}
	ch := make(chan res, 1)
	go func() {
		v, ok := volumeInfo(letter)
		ch <- res{v, ok}
	}()
	t := time.NewTimer(volumeQueryTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.ok
	case <-t.C:
	case <-ctx.Done():
	}
	return inventory.Volume{}, false
}

func volumeInfo(letter string) (inventory.Volume, bool) {
	root, _ := windows.UTF16PtrFromString(letter + `\`)
	v := inventory.Volume{Mountpoint: letter, Device: letter}
	kind := windows.GetDriveType(root)
	v.Network = kind == windows.DRIVE_REMOTE
	var label, fs [windows.MAX_PATH + 1]uint16
	var serial, maxLen, flags uint32
	if err := windows.GetVolumeInformation(root, &label[0], uint32(len(label)), &serial, &maxLen, &flags, &fs[0], uint32(len(fs))); err != nil {
		return v, false // no medium (empty card reader, optical drive)
	}
	v.Label = windows.UTF16ToString(label[:])
	v.Filesystem = windows.UTF16ToString(fs[:])
	v.Serial = fmt.Sprintf("%04X-%04X", serial>>16, serial&0xffff)
	v.ReadOnly = flags&windows.FILE_READ_ONLY_VOLUME != 0
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(root, &free, &total, &totalFree); err == nil {
		v.TotalBytes, v.FreeBytes = total, totalFree
	}
	if kind == windows.DRIVE_REMOTE {
		v.Device = remoteName(letter)
	} else {
		v.Disk = volumeDisk(letter)
	}
	v.Options = winDriveTypeName(kind)
	return v, true
}

// volumeDisk names the physical disk holding the volume's first extent.
func volumeDisk(letter string) string {
	h, err := openDevice(`\\.\` + letter)
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	// VOLUME_DISK_EXTENTS: NumberOfDiskExtents (padded to 8), then DISK_EXTENT{DiskNumber...}.
	buf := make([]byte, 256)
	var n uint32
	if err := windows.DeviceIoControl(h, ioctlVolumeGetVolumeDiskExtents, nil, 0, &buf[0], uint32(len(buf)), &n, nil); err != nil || n < 12 {
		return ""
	}
	if binary.LittleEndian.Uint32(buf) == 0 {
		return ""
	}
	return fmt.Sprintf(`\\.\PhysicalDrive%d`, binary.LittleEndian.Uint32(buf[8:]))
}

// remoteName is the UNC path behind a mapped network drive (WNetGetConnection), best effort.
func remoteName(letter string) string {
	mpr := procWNetGetConnectionW
	if mpr.Find() != nil {
		return letter
	}
	l, _ := windows.UTF16PtrFromString(letter)
	buf := make([]uint16, 1024)
	n := uint32(len(buf))
	if r, _, _ := mpr.Call(uintptr(unsafe.Pointer(l)), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n))); r != 0 {
		return letter
	}
	return windows.UTF16ToString(buf)
}

// encryptableVolume is root\CIMV2\Security\MicrosoftVolumeEncryption Win32_EncryptableVolume.
type encryptableVolume struct {
	DriveLetter      string
	ProtectionStatus uint32
}

// applyBitLocker marks volumes BitLocker protects. It needs administrator rights (the agent's
// service account has them) and WMI; on failure the volumes are left "unknown".
func applyBitLocker(ctx context.Context, vols []inventory.Volume) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rows, err := wmiQuery[encryptableVolume](qctx, `root\CIMV2\Security\MicrosoftVolumeEncryption`,
		"SELECT DriveLetter, ProtectionStatus FROM Win32_EncryptableVolume")
	if err != nil {
		return
	}
	for _, r := range rows {
		for i := range vols {
			if !strings.EqualFold(vols[i].Mountpoint, r.DriveLetter) {
				continue
			}
			switch r.ProtectionStatus {
			case 0:
				off := false
				vols[i].Encrypted = &off
			case 1:
				on := true
				vols[i].Encrypted, vols[i].Encryption = &on, "BitLocker"
			}
		}
	}
}
