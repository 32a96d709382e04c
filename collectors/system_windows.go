package collectors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/omniagent/omniagent/inventory"
)

// winCollectSystem fills system, baseboard, BIOS and memory modules from the raw SMBIOS table,
// falling back to the registry copy Windows makes of it at boot; then names, domain, uptime,
// timezone, firmware type and Secure Boot.
func winCollectSystem(ctx context.Context, inv *inventory.Inventory) error {
	var errs []error
	if raw, err := rawSMBIOS(); err != nil {
		errs = append(errs, err)
	} else if sm, err := ParseRawSMBIOSData(raw); err != nil && sm == nil {
		errs = append(errs, fmt.Errorf("parse SMBIOS: %w", err))
	} else {
		sm.Apply(inv)
	}
	if k, err := hklm(`HARDWARE\DESCRIPTION\System\BIOS`); err == nil {
		sys, bios := biosFromRegistry(k)
		k.Close()
		fillEmpty(&inv.System.Manufacturer, sys.Manufacturer)
		fillEmpty(&inv.System.Model, sys.Model)
		fillEmpty(&inv.System.SKU, sys.SKU)
		fillEmpty(&inv.System.Family, sys.Family)
		fillEmpty(&inv.System.Baseboard.Manufacturer, sys.Baseboard.Manufacturer)
		fillEmpty(&inv.System.Baseboard.Product, sys.Baseboard.Product)
		fillEmpty(&inv.System.Baseboard.Version, sys.Baseboard.Version)
		fillEmpty(&inv.BIOS.Vendor, bios.Vendor)
		fillEmpty(&inv.BIOS.Version, bios.Version)
		if inv.BIOS.DateRaw == "" {
			inv.BIOS.DateRaw, inv.BIOS.ReleaseDate = bios.DateRaw, bios.ReleaseDate
		}
	} else if len(errs) > 0 {
		errs = append(errs, err) // neither source worked: report both
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	inv.System.Virtual = platformVirtual(inv.System.Manufacturer, inv.System.Model, inv.BIOS.Vendor)

	// Hostname and FQDN come from the agent identity (which honours the config override).
	dnsDomain, _ := computerName(windows.ComputerNamePhysicalDnsDomain)
	if name, kind, err := joinInformation(); err == nil {
		switch kind {
		case windows.NetSetupDomainName:
			inv.System.Domain = firstNonEmpty(strings.ToLower(dnsDomain), name)
		case windows.NetSetupWorkgroupName:
			inv.System.Workgroup = name
		}
	} else if dnsDomain != "" {
		inv.System.Domain = strings.ToLower(dnsDomain)
	}

	up := windows.DurationSinceBoot()
	inv.System.Uptime = up.Seconds()
	inv.System.BootTime = time.Now().Add(-up).UTC().Truncate(time.Second)
	if k, err := hklm(`SYSTEM\CurrentControlSet\Control\TimeZoneInformation`); err == nil {
		inv.System.Timezone = timezoneFromRegistry(k)
		k.Close()
	}
	_, off := time.Now().Zone()
	inv.System.TZOffset = off

	inv.BIOS.BootType = firmwareType()
	if k, err := hklm(`SYSTEM\CurrentControlSet\Control\SecureBoot\State`); err == nil {
		if v, ok := regUint(k, "UEFISecureBootEnabled"); ok {
			on := v == 1
			inv.BIOS.SecureBoot = &on
		}
		k.Close()
	}
	return errors.Join(errs...)
}

func fillEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func computerName(kind uint32) (string, error) {
	n := uint32(256)
	for range 3 {
		buf := make([]uint16, n)
		err := windows.GetComputerNameEx(kind, &buf[0], &n)
		if err == nil {
			return windows.UTF16ToString(buf[:n]), nil
		}
		if !errors.Is(err, windows.ERROR_MORE_DATA) {
			return "", fmt.Errorf("GetComputerNameEx(%d): %w", kind, err)
		}
	}
	return "", fmt.Errorf("GetComputerNameEx(%d): buffer keeps growing", kind)
}

// joinInformation is NetGetJoinInformation: the AD domain (NetBIOS) or workgroup name.
func joinInformation() (string, uint32, error) {
	var buf *uint16
	var kind uint32
	if err := windows.NetGetJoinInformation(nil, &buf, &kind); err != nil {
		return "", 0, fmt.Errorf("NetGetJoinInformation: %w", err)
	}
	defer windows.NetApiBufferFree((*byte)(unsafe.Pointer(buf)))
	return windows.UTF16PtrToString(buf), kind, nil
}
