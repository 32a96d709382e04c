//go:build !linux

package collectors

import (
	"context"
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/omniagent/omniagent/inventory"
)

// collectProcessesGopsutil lists running processes through gopsutil (Windows, macOS; Linux uses the
// faster direct /proc reader).
func collectProcessesGopsutil(ctx context.Context, inv *inventory.Inventory) error {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	var total uint64
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		total = vm.Total
	}
	for _, p := range procs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pr := inventory.Process{PID: p.Pid}
		pr.PPID, _ = p.PpidWithContext(ctx)
		pr.Name, _ = p.NameWithContext(ctx)
		pr.User, _ = p.UsernameWithContext(ctx)
		if c, err := p.CmdlineWithContext(ctx); err == nil {
			pr.Command = truncate(c, maxCommandLen)
		}
		if m, err := p.MemoryInfoWithContext(ctx); err == nil && m != nil {
			pr.MemBytes, pr.VirtBytes = m.RSS, m.VMS
			if total > 0 {
				pr.MemPercent = float64(m.RSS) / float64(total) * 100
			}
		}
		if ms, err := p.CreateTimeWithContext(ctx); err == nil && ms > 0 {
			pr.Started = time.UnixMilli(ms).UTC()
		}
		pr.CPUPercent, _ = p.CPUPercentWithContext(ctx)
		inv.Processes = append(inv.Processes, pr)
	}
	return nil
}
