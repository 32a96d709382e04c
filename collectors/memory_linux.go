package collectors

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectMemory reads /proc/meminfo and, when the SMBIOS table is readable (root), the modules.
func collectMemory(ctx context.Context, inv *inventory.Inventory) error {
	b, err := readFile("/proc/meminfo")
	if err != nil {
		return fmt.Errorf("read meminfo: %w", err)
	}
	mi := ParseMeminfo(b)
	inv.Memory.TotalBytes = mi["MemTotal"]
	inv.Memory.FreeBytes = mi["MemAvailable"]
	if inv.Memory.FreeBytes == 0 {
		inv.Memory.FreeBytes = mi["MemFree"] + mi["Buffers"] + mi["Cached"]
	}
	inv.Memory.SwapBytes, inv.Memory.SwapFree = mi["SwapTotal"], mi["SwapFree"]
	if smb, err := readSMBIOS(ctx); err == nil {
		var tmp inventory.Inventory
		smb.Apply(&tmp)
		inv.Memory.Modules, inv.Memory.Slots = tmp.Memory.Modules, tmp.Memory.Slots
	}
	return nil
}

// ParseMeminfo reads /proc/meminfo into bytes per key ("kB" values are converted).
func ParseMeminfo(b []byte) map[string]uint64 {
	out := map[string]uint64{}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[strings.TrimSpace(k)] = n
	}
	return out
}
