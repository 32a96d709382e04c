package collectors

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// macCollectSystem reads the model, boot time and virtualisation from sysctl (instant) and
// serial, UUID and boot ROM from system_profiler.
func macCollectSystem(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	s := &inv.System
	s.Manufacturer = "Apple Inc."
	if m, err := unix.Sysctl("hw.model"); err == nil {
		s.Model = m
	}
	if tv, err := unix.SysctlTimeval("kern.boottime"); err == nil && tv.Sec > 0 {
		s.BootTime = time.Unix(tv.Sec, int64(tv.Usec)*1000).UTC().Truncate(time.Second)
		s.Uptime = time.Since(s.BootTime).Truncate(time.Second).Seconds()
	}
	s.Virtual = platformVirtual(s.Model)
	if vmm, err := unix.SysctlUint32("kern.hv_vmm_present"); err == nil && vmm == 1 && s.Virtual.Kind != "vm" {
		s.Virtual = inventory.Virtual{Kind: "vm", Vendor: "unknown", Role: "guest"}
	}
	s.Timezone = macTimezone()
	_, s.TZOffset = time.Now().Zone()
	// The part starts with the identity's names; the domain is what follows the host name.
	fqdn := s.FQDN
	if fqdn == "" {
		fqdn, _ = os.Hostname()
	}
	if _, dom, ok := strings.Cut(fqdn, "."); ok && dom != "local" {
		s.Domain = dom
	}
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	ps := p.System
	s.Model = firstNonEmpty(ps.Model, s.Model)
	s.Family, s.SKU, s.Serial, s.UUID, s.ChassisType = ps.Family, ps.SKU, ps.Serial, ps.UUID, ps.ChassisType
	inv.BIOS = p.BIOS
	if inv.BIOS.Version == "" {
		return errors.New("system_profiler: no hardware overview")
	}
	return nil
}

// macTimezone reads the zone name from the /etc/localtime symlink
// (…/zoneinfo/Europe/Paris).
func macTimezone() string {
	target, err := os.Readlink("/etc/localtime")
	if err != nil {
		return ""
	}
	if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
		return name
	}
	return ""
}
