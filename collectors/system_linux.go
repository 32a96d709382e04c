package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

const dmiDir = "/sys/class/dmi/id"

// collectSystem fills the machine (DMI, virtualization, names, uptime, timezone) and the BIOS.
func collectSystem(ctx context.Context, inv *inventory.Inventory) error {
	s := &inv.System
	d := func(name string) string { return CleanDMI(readStr(filepath.Join(dmiDir, name))) }
	s.Manufacturer = d("sys_vendor")
	s.Model = d("product_name")
	s.Serial = d("product_serial")
	s.UUID = strings.ToUpper(d("product_uuid"))
	s.SKU = d("product_sku")
	s.Family = d("product_family")
	if t, err := strconv.Atoi(readStr(filepath.Join(dmiDir, "chassis_type"))); err == nil {
		s.ChassisType = ChassisName(t)
	}
	s.AssetTag = d("chassis_asset_tag")
	s.Baseboard = inventory.Baseboard{Manufacturer: d("board_vendor"), Product: d("board_name"),
		Serial: d("board_serial"), Version: d("board_version"), AssetTag: d("board_asset_tag")}
	b := &inv.BIOS
	b.Vendor, b.Version, b.DateRaw = d("bios_vendor"), d("bios_version"), d("bios_date")
	b.ReleaseDate = ParseBIOSDate(b.DateRaw)

	// The raw table (root only) has what sysfs hides from other users (serials, UUID).
	if smb, err := readSMBIOS(ctx); err == nil {
		var tmp inventory.Inventory
		tmp.System, tmp.BIOS = *s, *b
		smb.Apply(&tmp)
		*s, *b = tmp.System, tmp.BIOS
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Without DMI (ARM boards, some VMs) the device tree names the machine.
	if s.Model == "" {
		s.Model = strings.TrimRight(readStr("/sys/firmware/devicetree/base/model"), "\x00")
	}
	if s.Serial == "" {
		s.Serial = CleanDMI(strings.TrimRight(readStr("/sys/firmware/devicetree/base/serial-number"), "\x00"))
	}

	if fileExists("/sys/firmware/efi") {
		b.BootType = "uefi"
		b.SecureBoot = secureBoot()
	} else if s.Manufacturer != "" || b.Vendor != "" {
		// Without DMI we may be in a container that hides /sys/firmware: do not guess.
		b.BootType = "legacy"
	}

	s.Virtual = detectVirtual(s.Manufacturer, s.Model, b.Vendor)

	if s.Hostname == "" {
		if h, err := os.Hostname(); err == nil {
			s.Hostname, _, _ = strings.Cut(h, ".")
		}
	}
	if _, dom, ok := strings.Cut(s.FQDN, "."); ok {
		s.Domain = dom
	} else if dom := readStr("/proc/sys/kernel/domainname"); dom != "" && dom != "(none)" {
		s.Domain = dom
	} else {
		s.Domain = resolvDomain(readStr("/etc/resolv.conf"))
	}

	if up := strings.Fields(readStr("/proc/uptime")); len(up) > 0 {
		if f, err := strconv.ParseFloat(up[0], 64); err == nil {
			s.Uptime = float64(int64(f))
		}
	}
	s.BootTime = bootTime(readStr("/proc/stat"))
	s.Timezone = linuxTimezone()
	_, s.TZOffset = time.Now().Zone()
	return nil
}

// readSMBIOS reads and decodes the SMBIOS table once per collection (system, cpu, memory,
// ports, slots and power supplies all read it).
func readSMBIOS(ctx context.Context) (*SMBIOS, error) {
	r := shared(ctx, "smbios", func() smbiosRead {
		s, err := readSMBIOSTable()
		return smbiosRead{s, err}
	})
	return r.s, r.err
}

// smbiosRead is the decoded table or the error reading it.
type smbiosRead struct {
	s   *SMBIOS
	err error
}

func readSMBIOSTable() (*SMBIOS, error) {
	table, err := readFile("/sys/firmware/dmi/tables/DMI")
	if err != nil {
		return nil, err
	}
	entry, _ := readFile("/sys/firmware/dmi/tables/smbios_entry_point")
	major, minor := SMBIOSVersion(entry)
	return ParseSMBIOS(table, major, minor)
}

// secureBoot reads the SecureBoot EFI variable: 4 attribute bytes then the value.
func secureBoot() *bool {
	b, err := readFile("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c")
	if err != nil || len(b) < 5 {
		return nil
	}
	on := b[4] == 1
	return &on
}

// bootTime reads "btime" from /proc/stat.
func bootTime(stat string) time.Time {
	for line := range strings.Lines(stat) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(n, 0).UTC()
			}
		}
	}
	return time.Time{}
}

// resolvDomain is resolv.conf's "domain", else the first "search" entry.
func resolvDomain(conf string) string {
	var search string
	for line := range strings.Lines(conf) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "domain":
			return f[1]
		case "search":
			if search == "" {
				search = f[1]
			}
		}
	}
	return search
}

// linuxTimezone names the IANA zone: $TZ, /etc/timezone, then the /etc/localtime link target.
func linuxTimezone() string {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" && !strings.HasPrefix(tz, "/") {
		return tz
	}
	if tz := readStr("/etc/timezone"); tz != "" {
		return tz
	}
	if l, err := os.Readlink("/etc/localtime"); err == nil {
		if _, after, ok := strings.Cut(l, "zoneinfo/"); ok {
			return after
		}
	}
	if kv := readKV("/etc/sysconfig/clock"); kv["ZONE"] != "" {
		return kv["ZONE"]
	}
	return ""
}

// detectVirtual tells containers (checked first: a container inside a VM is reported as the
// container) from VMs (DMI strings, the hypervisor CPU flag, Xen) from bare metal.
func detectVirtual(manufacturer, model, biosVendor string) inventory.Virtual {
	if v := detectContainer(); v != "" {
		return inventory.Virtual{Kind: "container", Vendor: v, Role: "guest"}
	}
	if strings.Contains(strings.ToLower(readStr("/proc/sys/kernel/osrelease")), "microsoft") {
		return inventory.Virtual{Kind: "vm", Vendor: "wsl", Role: "guest"}
	}
	if v := vmVendor(manufacturer + " " + model + " " + biosVendor); v != "" {
		return inventory.Virtual{Kind: "vm", Vendor: v, Role: "guest"}
	}
	if t := readStr("/sys/hypervisor/type"); t != "" {
		if t == "xen" && fileExists("/proc/xen/capabilities") && strings.Contains(readStr("/proc/xen/capabilities"), "control_d") {
			return inventory.Virtual{Kind: "physical", Vendor: "xen", Role: "host"}
		}
		return inventory.Virtual{Kind: "vm", Vendor: t, Role: "guest"}
	}
	if cpuHasHypervisorFlag() {
		return inventory.Virtual{Kind: "vm", Vendor: "unknown", Role: "guest"}
	}
	if fileExists("/dev/kvm") || fileExists("/sys/module/kvm") {
		return inventory.Virtual{Kind: "physical", Vendor: "kvm", Role: "host"}
	}
	return inventory.Virtual{Kind: "physical"}
}

// vmVendor recognises the hypervisor from DMI strings.
func vmVendor(dmi string) string {
	s := strings.ToLower(dmi)
	for _, v := range []struct{ sub, vendor string }{
		{"vmware", "vmware"}, {"virtualbox", "virtualbox"}, {"innotek", "virtualbox"},
		{"qemu", "qemu"}, {"kvm", "kvm"}, {"bochs", "bochs"}, {"microsoft corporation virtual", "hyperv"},
		{"hyper-v", "hyperv"}, {"xen", "xen"}, {"parallels", "parallels"}, {"amazon ec2", "amazon"},
		{"google compute engine", "google"}, {"openstack", "openstack"}, {"bhyve", "bhyve"},
		{"apple virtualization", "apple"}, {"utm", "qemu"}, {"digitalocean", "kvm"},
	} {
		if strings.Contains(s, v.sub) {
			return v.vendor
		}
	}
	return ""
}

func detectContainer() string {
	switch {
	case fileExists("/.dockerenv"):
		return "docker"
	case fileExists("/run/.containerenv"):
		return "podman"
	case fileExists("/var/run/secrets/kubernetes.io") || os.Getenv("KUBERNETES_SERVICE_HOST") != "":
		return "kubernetes"
	}
	if env, err := readFile("/proc/1/environ"); err == nil {
		for kv := range strings.SplitSeq(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "container="); ok && v != "" {
				return v
			}
		}
	}
	cg := readStr("/proc/1/cgroup")
	for _, v := range []string{"docker", "kubepods", "lxc", "containerd", "libpod"} {
		if strings.Contains(cg, v) {
			if v == "kubepods" {
				return "kubernetes"
			}
			return v
		}
	}
	return ""
}

func cpuHasHypervisorFlag() bool {
	b, err := readFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "flags") {
			return strings.Contains(line, " hypervisor")
		}
	}
	return false
}
