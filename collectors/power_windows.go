package collectors

import (
	"context"
	"fmt"

	"github.com/omniagent/omniagent/inventory"
)

// win32Battery is root\CIMV2 Win32_Battery.
type win32Battery struct {
	Name                     string
	DeviceID                 string
	EstimatedChargeRemaining uint16
	Chemistry                uint16
	DesignVoltage            uint64
	BatteryStatus            uint16
}

// batteryStaticData and batteryFullCharged are the root\WMI battery classes (ACPI data).
type batteryStaticData struct {
	ManufactureName  string
	SerialNumber     string
	DeviceName       string
	DesignedCapacity uint32
}

type batteryFullCharged struct {
	FullChargedCapacity uint32
}

// winCollectBatteries reads batteries from WMI: Win32_Battery for charge and chemistry, the
// root\WMI ACPI classes for maker, serial and capacities (best effort: paired by order).
func winCollectBatteries(ctx context.Context, inv *inventory.Inventory) error {
	rows, err := wmiQuery[win32Battery](ctx, `root\CIMV2`,
		"SELECT Name, DeviceID, EstimatedChargeRemaining, Chemistry, DesignVoltage, BatteryStatus FROM Win32_Battery")
	if err != nil {
		return fmt.Errorf("batteries: %w", err)
	}
	if len(rows) == 0 {
		return nil // a desktop
	}
	static, _ := wmiQuery[batteryStaticData](ctx, `root\WMI`, "SELECT ManufactureName, SerialNumber, DeviceName, DesignedCapacity FROM BatteryStaticData")
	full, _ := wmiQuery[batteryFullCharged](ctx, `root\WMI`, "SELECT FullChargedCapacity FROM BatteryFullChargedCapacity")
	for i, r := range rows {
		b := inventory.Battery{
			Name:          firstNonEmpty(r.Name, r.DeviceID),
			Chemistry:     winBatteryChemistry(r.Chemistry),
			DesignVoltage: r.DesignVoltage,
			Charge:        float64(r.EstimatedChargeRemaining),
			Status:        winBatteryStatus(r.BatteryStatus),
		}
		if i < len(static) {
			s := static[i]
			b.Manufacturer, b.Serial, b.Model = s.ManufactureName, s.SerialNumber, s.DeviceName
			b.DesignCapacity = uint64(s.DesignedCapacity)
		}
		if i < len(full) {
			b.FullCapacity = uint64(full[i].FullChargedCapacity)
		}
		inv.Batteries = append(inv.Batteries, b)
	}
	return nil
}

func winBatteryChemistry(c uint16) string {
	return map[uint16]string{3: "Lead Acid", 4: "NiCd", 5: "NiMH", 6: "Li-ion", 7: "Zinc air", 8: "Li-poly"}[c]
}

func winBatteryStatus(s uint16) string {
	switch s {
	case 1:
		return "discharging"
	case 2:
		return "ac"
	case 3:
		return "full"
	case 4, 5:
		return "low"
	case 6, 7, 8, 9:
		return "charging"
	}
	return ""
}
