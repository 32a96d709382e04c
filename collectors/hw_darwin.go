package collectors

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// macCollectCPU reads the processor from sysctl; it does not need system_profiler.
func macCollectCPU(_ context.Context, inv *inventory.Inventory) error {
	c := inventory.CPU{}
	var err error
	if c.Model, err = unix.Sysctl("machdep.cpu.brand_string"); err != nil {
		return fmt.Errorf("cpu: sysctl machdep.cpu.brand_string: %w", err)
	}
	if strings.HasPrefix(c.Model, "Apple") {
		c.Vendor, c.Arch = "Apple", "arm64"
	} else {
		c.Arch = "x86_64"
		c.Vendor, _ = unix.Sysctl("machdep.cpu.vendor")
		if v, err := unix.SysctlUint32("machdep.cpu.family"); err == nil {
			c.Family = fmt.Sprint(v)
		}
		if v, err := unix.SysctlUint32("machdep.cpu.model"); err == nil {
			c.ModelNumber = fmt.Sprint(v)
		}
		if v, err := unix.SysctlUint32("machdep.cpu.stepping"); err == nil {
			c.Stepping = fmt.Sprint(v)
		}
		if hz, err := unix.SysctlUint64("hw.cpufrequency"); err == nil {
			c.SpeedHz = hz
		}
		if hz, err := unix.SysctlUint64("hw.cpufrequency_max"); err == nil {
			c.MaxSpeedHz = hz
		}
	}
	if n, err := unix.SysctlUint32("hw.physicalcpu"); err == nil {
		c.Cores = int(n)
	}
	if n, err := unix.SysctlUint32("hw.logicalcpu"); err == nil {
		c.Threads = int(n)
	}
	if n, err := unix.SysctlUint64("hw.l2cachesize"); err == nil {
		c.CacheL2Bytes = n
	}
	if n, err := unix.SysctlUint64("hw.l3cachesize"); err == nil {
		c.CacheL3Bytes = n
	}
	inv.CPUs = []inventory.CPU{c}
	return nil
}

// macCollectMemory reads total RAM from sysctl, free memory and swap from gopsutil and the
// modules from system_profiler (best effort: totals are kept when it fails).
func macCollectMemory(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	total, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return fmt.Errorf("memory: sysctl hw.memsize: %w", err)
	}
	inv.Memory.TotalBytes = total
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		inv.Memory.FreeBytes = vm.Available
	}
	if sw, err := mem.SwapMemoryWithContext(ctx); err == nil {
		inv.Memory.SwapBytes, inv.Memory.SwapFree = sw.Total, sw.Free
	}
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Memory.Modules, inv.Memory.Slots = p.Memory.Modules, p.Memory.Slots
	return nil
}

// macCollectGPU takes the video controllers from system_profiler.
func macCollectGPU(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.GPUs = p.GPUs
	return nil
}

// macCollectMonitors decodes the EDIDs ioreg shows and adds the displays only system_profiler
// knows (built-in panels of Apple silicon Macs expose no EDID).
func macCollectMonitors(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	var edid []inventory.Monitor
	out, ioErr := macRun(ctx, ioregTimeout, "/usr/sbin/ioreg", "-lw0", "-r", "-c", "IODisplayConnect", "-d", "2")
	if ioErr == nil {
		edid = monitorsFromIoreg(out)
	}
	if len(edid) == 0 {
		// Apple silicon: the framebuffer holds the EDID.
		if out, err := macRun(ctx, ioregTimeout, "/usr/sbin/ioreg", "-lw0", "-r", "-c", "AppleCLCD2", "-d", "1"); err == nil {
			edid = monitorsFromIoreg(out)
			ioErr = nil
		}
	}
	var prof []inventory.Monitor
	p, spErr := sp.get(ctx)
	if spErr == nil {
		prof = p.Monitors
	}
	inv.Monitors = mergeMonitors(edid, prof)
	if len(inv.Monitors) == 0 && spErr != nil {
		return spErr
	}
	if len(inv.Monitors) == 0 && ioErr != nil {
		return ioErr
	}
	return nil
}

// macCollectDisks and macCollectVolumes read system_profiler's storage section: the physical
// drives under the mounted volumes, and the volumes themselves.
func macCollectDisks(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Disks = p.Disks
	return nil
}

func macCollectVolumes(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Volumes = append([]inventory.Volume(nil), p.Volumes...)
	applyFileVault(ctx, inv.Volumes)
	return nil
}

// applyFileVault marks the system volumes when FileVault is on (`fdesetup isactive` prints
// true/false; best effort: left unknown when it cannot say).
func applyFileVault(ctx context.Context, vols []inventory.Volume) {
	out, err := macRun(ctx, 3*time.Second, "/usr/bin/fdesetup", "isactive")
	state := strings.TrimSpace(string(out))
	if err != nil && state == "" {
		// isactive exits 1 when FileVault is off, which macRun reports as an error.
		if !strings.Contains(err.Error(), "exit status 1") {
			return
		}
		state = "false"
	}
	on := state == "true"
	for i := range vols {
		if vols[i].Mountpoint == "/" || vols[i].Mountpoint == "/System/Volumes/Data" {
			v := on
			vols[i].Encrypted = &v
			if on {
				vols[i].Encryption = "FileVault"
			}
		}
	}
}

// macCollectNetwork takes the network services from system_profiler (addresses, router, DNS,
// DHCP) and the MTU and link state from the interfaces themselves.
func macCollectNetwork(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Networks = append([]inventory.Network(nil), p.Networks...)
	for i := range inv.Networks {
		n := &inv.Networks[i]
		if ifc, err := netInterfaceByName(n.Name); err == nil {
			n.MTU = ifc.MTU
			n.Up = n.Up || ifc.Up
		}
	}
	return nil
}

// macCollectPrinters reads CUPS's printers.conf (root-readable) and falls back to
// system_profiler's printer list.
func macCollectPrinters(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	if b, err := os.ReadFile("/etc/cups/printers.conf"); err == nil {
		inv.Printers = ParseCUPSPrinters(b)
		return nil
	}
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Printers = p.Printers
	return nil
}

// macCollectBatteries and macCollectUSB come from system_profiler.
func macCollectBatteries(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Batteries = p.Batteries
	return nil
}

func macCollectUSB(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.USB = p.USB
	return nil
}
