package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectLVM reads LVM physical volumes, volume groups and logical volumes from the on-disk
// metadata of every block device (no lvm process), and which LVs device-mapper maps now from
// /sys/block/dm-*/dm/{name,uuid}.
func collectLVM(ctx context.Context, inv *inventory.Inventory) error {
	pvs, err := scanLVM(ctx, "/sys/class/block", "/dev")
	if err != nil {
		return err
	}
	if len(pvs) == 0 {
		return nil
	}
	r := LVMFromMetadata(pvs, activeLVs("/sys/block"))
	inv.PhysicalVolumes, inv.VolumeGroups, inv.LogicalVolumes = r.PVs, r.VGs, r.LVs
	return nil
}

// scanLVM reads the LVM label of each block device listed in sysDir (disks and partitions).
func scanLVM(ctx context.Context, sysDir, devDir string) ([]lvmPV, error) {
	entries, err := readDir(sysDir)
	if err != nil {
		return nil, err
	}
	var out []lvmPV
	for _, e := range entries {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		name := e.Name()
		// No PV on optical, floppy, RAM or compressed-swap devices; an LV as a PV is too rare
		// to read every LV for.
		if strings.HasPrefix(name, "sr") || strings.HasPrefix(name, "fd") || strings.HasPrefix(name, "ram") ||
			strings.HasPrefix(name, "zram") {
			continue
		}
		if readUint(filepath.Join(sysDir, name, "size")) == 0 {
			continue // detached loop device, empty card reader
		}
		if strings.HasPrefix(name, "dm-") && strings.HasPrefix(readStr(filepath.Join(sysDir, name, "dm", "uuid")), "LVM-") {
			continue
		}
		dev := filepath.Join(devDir, name)
		f, err := os.Open(dev)
		if err != nil {
			continue // not root, or no device node in this container
		}
		m, err := ReadLVMMetadata(f)
		f.Close()
		if err != nil || m == nil {
			continue
		}
		// A PV on a mapped device (LUKS) is known by its mapper name, as lvm prints it.
		if dmName := readStr(filepath.Join(sysDir, name, "dm", "name")); strings.HasPrefix(name, "dm-") && dmName != "" {
			dev = filepath.Join(devDir, "mapper", dmName)
		}
		out = append(out, lvmPV{Device: dev, Meta: m})
	}
	return out, nil
}

// activeLVs names the logical volumes device-mapper maps: dm/uuid is "LVM-" + VG id + LV id
// (no dashes) and dm/name is "vg-lv" with dashes in names doubled.
func activeLVs(sysBlock string) map[string]bool {
	out := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(sysBlock, "dm-*"))
	for _, d := range matches {
		if !strings.HasPrefix(readStr(filepath.Join(d, "dm", "uuid")), "LVM-") {
			continue
		}
		if vg, lv, ok := splitDMName(readStr(filepath.Join(d, "dm", "name"))); ok {
			out[vg+"/"+lv] = true
		}
	}
	return out
}

// splitDMName splits device-mapper's "vg-lv" name, where a dash inside either name is doubled.
func splitDMName(s string) (vg, lv string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '-' {
			i++
			continue
		}
		return strings.ReplaceAll(s[:i], "--", "-"), strings.ReplaceAll(s[i+1:], "--", "-"), true
	}
	return "", "", false
}
