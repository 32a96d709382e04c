package collectors

import (
	"context"
	"fmt"

	"github.com/omniagent/omniagent/inventory"
)

// winCollectMonitors reads the EDID Windows keeps for each display in the registry.
func winCollectMonitors(_ context.Context, inv *inventory.Inventory) error {
	k, err := hklm(`SYSTEM\CurrentControlSet\Enum\DISPLAY`)
	if err != nil {
		return fmt.Errorf("monitors: %w", err)
	}
	defer k.Close()
	inv.Monitors = monitorsFromRegistry(k)
	return nil
}

// winCollectPrinters reads the spooler's printer keys; no spooler call, so a hung spooler or an
// unreachable print server cannot block it.
func winCollectPrinters(_ context.Context, inv *inventory.Inventory) error {
	k, err := hklm(`SYSTEM\CurrentControlSet\Control\Print\Printers`)
	if err != nil {
		return fmt.Errorf("printers: %w", err)
	}
	defer k.Close()
	inv.Printers = printersFromRegistry(k)
	return nil
}

// winCollectUSB lists the USB devices attached now from the device enumeration tree.
func winCollectUSB(_ context.Context, inv *inventory.Inventory) error {
	k, err := hklm(`SYSTEM\CurrentControlSet\Enum\USB`)
	if err != nil {
		return fmt.Errorf("usb devices: %w", err)
	}
	defer k.Close()
	inv.USB = usbFromRegistry(k, true)
	return nil
}

// winCollectGPU reads the display adapters' driver keys.
func winCollectGPU(_ context.Context, inv *inventory.Inventory) error {
	k, err := hklm(`SYSTEM\CurrentControlSet\Control\Class\` + displayClassKey)
	if err != nil {
		return fmt.Errorf("video controllers: %w", err)
	}
	defer k.Close()
	inv.GPUs = gpusFromRegistry(k)
	return nil
}

// winCollectControllers lists the PCI devices attached now from the device enumeration tree.
func winCollectControllers(_ context.Context, inv *inventory.Inventory) error {
	k, err := hklm(`SYSTEM\CurrentControlSet\Enum\PCI`)
	if err != nil {
		return fmt.Errorf("pci controllers: %w", err)
	}
	defer k.Close()
	inv.Controllers = controllersFromRegistry(k)
	return nil
}
