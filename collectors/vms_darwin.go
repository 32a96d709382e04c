package collectors

import (
	"context"

	"github.com/omniagent/omniagent/inventory"
)

// macCollectVirtualMachines lists the VirtualBox machines registered by each user
// (~/Library/VirtualBox/VirtualBox.xml) and UTM virtual machines (config.plist in each .utm
// bundle), from their files: no hypervisor is asked.
func macCollectVirtualMachines(ctx context.Context, inv *inventory.Inventory) error {
	inv.VirtualMachines = macVirtualMachines("/")
	return ctx.Err()
}
