package collectors

import (
	"context"
	"os"

	"github.com/omniagent/omniagent/inventory"
)

// SMBIOS-only sections: the raw table is root-only and absent in most containers; without it
// these sections are empty (sysfs has no equivalent).
func collectPorts(ctx context.Context, inv *inventory.Inventory) error {
	if s, err := readSMBIOS(ctx); err == nil {
		inv.Ports = s.Ports()
	} else if !os.IsNotExist(err) {
		return err
	}
	return nil
}

func collectSlots(ctx context.Context, inv *inventory.Inventory) error {
	if s, err := readSMBIOS(ctx); err == nil {
		inv.Slots = s.Slots()
	} else if !os.IsNotExist(err) {
		return err
	}
	return nil
}

func collectPowerSupplies(ctx context.Context, inv *inventory.Inventory) error {
	if s, err := readSMBIOS(ctx); err == nil {
		inv.PowerSupplies = s.PowerSupplies()
	} else if !os.IsNotExist(err) {
		return err
	}
	return nil
}

func collectRemoteMgmt(_ context.Context, inv *inventory.Inventory) error {
	inv.RemoteMgmt = readRemoteMgmt("/", linuxRemoteConfigs)
	return nil
}
