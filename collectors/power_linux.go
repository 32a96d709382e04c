package collectors

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// collectBatteries reads /sys/class/power_supply (energy in µWh, or charge in µAh with the
// design voltage).
func collectBatteries(_ context.Context, inv *inventory.Inventory) error {
	entries, err := readDir("/sys/class/power_supply")
	if err != nil {
		return nil // no power supply class: a desktop, server or container
	}
	for _, e := range entries {
		dir := filepath.Join("/sys/class/power_supply", e.Name())
		if readStr(filepath.Join(dir, "type")) != "Battery" || readStr(filepath.Join(dir, "scope")) == "Device" {
			continue // mice and keyboards report their batteries with scope Device
		}
		r := func(f string) string { return readStr(filepath.Join(dir, f)) }
		u := func(f string) uint64 { return readUint(filepath.Join(dir, f)) }
		b := inventory.Battery{Name: e.Name(), Manufacturer: r("manufacturer"), Model: r("model_name"),
			Serial: strings.TrimSpace(r("serial_number")), Chemistry: r("technology"), Status: r("status")}
		b.DesignVoltage = u("voltage_min_design") / 1000
		if b.DesignVoltage == 0 {
			b.DesignVoltage = u("voltage_max_design") / 1000
		}
		if v := u("energy_full_design"); v > 0 {
			b.DesignCapacity, b.FullCapacity = v/1000, u("energy_full")/1000
		} else if v := u("charge_full_design"); v > 0 && b.DesignVoltage > 0 {
			b.DesignCapacity = v * b.DesignVoltage / 1_000_000
			b.FullCapacity = u("charge_full") * b.DesignVoltage / 1_000_000
		}
		if c, err := strconv.ParseFloat(r("capacity"), 64); err == nil {
			b.Charge = c
		}
		if y := atoiOr(r("manufacture_year"), 0); y > 1990 {
			b.Date = time.Date(y, time.Month(max(1, atoiOr(r("manufacture_month"), 1))), max(1, atoiOr(r("manufacture_day"), 1)), 0, 0, 0, 0, time.UTC)
		}
		inv.Batteries = append(inv.Batteries, b)
	}
	return nil
}
