package collectors

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/omniagent/omniagent/inventory"
)

// winCollectCPU takes packages and logical processors from gopsutil (GetLogicalProcessorInformationEx)
// and the name, vendor, family/model/stepping and nominal speed from the registry.
func winCollectCPU(ctx context.Context, inv *inventory.Inventory) error {
	var reg inventory.CPU
	if k, err := hklm(`HARDWARE\DESCRIPTION\System\CentralProcessor\0`); err == nil {
		reg = cpuFromRegistry(k)
		k.Close()
	}
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil || len(infos) == 0 {
		if reg.Model == "" {
			return fmt.Errorf("cpu info: %w", err)
		}
		inv.CPUs = []inventory.CPU{reg}
		return nil
	}
	physical, _ := cpu.CountsWithContext(ctx, false)
	arch := winArch()
	for _, in := range infos {
		c := reg
		c.Model = firstNonEmpty(in.ModelName, reg.Model)
		c.Vendor = firstNonEmpty(in.VendorID, reg.Vendor)
		c.Threads = int(in.Cores) // gopsutil counts logical processors per package on Windows
		if physical > 0 {
			c.Cores = physical / len(infos)
		}
		if in.Mhz > 0 {
			c.MaxSpeedHz = uint64(in.Mhz) * 1_000_000
		}
		c.ID = in.PhysicalID
		c.Arch = arch
		inv.CPUs = append(inv.CPUs, c)
	}
	return nil
}

// winCollectMemory reads physical memory and the page file; modules come from SMBIOS (system).
func winCollectMemory(ctx context.Context, inv *inventory.Inventory) error {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	inv.Memory.TotalBytes, inv.Memory.FreeBytes = vm.Total, vm.Available
	if sw, err := mem.SwapMemoryWithContext(ctx); err == nil {
		inv.Memory.SwapBytes, inv.Memory.SwapFree = sw.Total, sw.Free
	}
	return nil
}
