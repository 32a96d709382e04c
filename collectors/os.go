package collectors

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/host"

	"github.com/omniagent/omniagent/inventory"
)

func collectOS(ctx context.Context, inv *inventory.Inventory) error {
	hi, err := host.InfoWithContext(ctx)
	if err != nil {
		return fmt.Errorf("host info: %w", err)
	}
	inv.OS.Family = runtime.GOOS
	inv.OS.Name = hi.Platform
	inv.OS.Version = hi.PlatformVersion
	inv.OS.KernelName = hi.OS
	inv.OS.KernelVersion = hi.KernelVersion
	inv.OS.Arch = hi.KernelArch
	inv.System.Uptime = float64(hi.Uptime)
	inv.System.BootTime = time.Unix(int64(hi.BootTime), 0).UTC()
	return nil
}
