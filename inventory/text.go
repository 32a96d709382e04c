package inventory

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints a readable summary of the inventory.
func WriteText(w io.Writer, inv *Inventory) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(k, f string, a ...any) {
		v := fmt.Sprintf(f, a...)
		if strings.TrimSpace(v) == "" {
			return
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	s := inv.System
	p("Host", "%s", s.Hostname)
	if s.FQDN != s.Hostname {
		p("FQDN", "%s", s.FQDN)
	}
	p("Domain", "%s", s.Domain)
	p("Machine UID", "%s", s.MachineUID)
	p("System", "%s", strings.TrimSpace(s.Manufacturer+" "+s.Model))
	p("Serial", "%s", s.Serial)
	if s.Virtual.Kind != "" && s.Virtual.Kind != "physical" {
		p("Virtual", "%s %s", s.Virtual.Kind, s.Virtual.Vendor)
	}
	os := inv.OS
	name := os.FullName
	if name == "" {
		name = strings.TrimSpace(os.Name + " " + os.Version)
	}
	p("OS", "%s", name)
	p("Kernel", "%s %s (%s)", os.KernelName, os.KernelVersion, os.Arch)
	if b := inv.BIOS; b.Vendor != "" || b.BootType != "" {
		sb := ""
		if b.SecureBoot != nil {
			sb = map[bool]string{true: "secure boot on", false: "secure boot off"}[*b.SecureBoot]
		}
		p("BIOS", "%s", strings.Join(nonEmpty(b.Vendor, b.Version, b.DateRaw, b.BootType, sb), " "))
	}
	p("Timezone", "%s", s.Timezone)
	if os.LastUser != "" {
		p("Last user", "%s at %s", os.LastUser, os.LastLoginAt.Format(time.RFC3339))
	}
	if s.Uptime > 0 {
		p("Uptime", "%s", (time.Duration(s.Uptime) * time.Second).String())
	}
	for _, c := range inv.CPUs {
		p("CPU", "%s (%d cores, %d threads)", c.Model, c.Cores, c.Threads)
	}
	if inv.Memory.TotalBytes > 0 {
		p("Memory", "%s", HumanBytes(inv.Memory.TotalBytes))
	}
	for _, m := range inv.Memory.Modules {
		p("Memory module", "%s", strings.Join(nonEmpty(m.Slot, HumanBytes(m.SizeBytes), m.Type, m.Manufacturer, m.PartNumber), " "))
	}
	for _, g := range inv.GPUs {
		p("GPU", "%s", strings.Join(nonEmpty(g.Vendor, g.Name, g.Driver), " "))
	}
	for _, m := range inv.Monitors {
		p("Monitor", "%s", strings.Join(nonEmpty(m.Manufacturer, m.Name, m.Serial, res(m.WidthPx, m.HeightPx)), " "))
	}
	for _, pr := range inv.Printers {
		p("Printer", "%s", strings.Join(nonEmpty(pr.Name, pr.Driver, pr.Status), " "))
	}
	for _, b := range inv.Batteries {
		p("Battery", "%s %s %.0f%% %s", b.Name, b.Model, b.Charge, b.Status)
	}
	for _, d := range inv.Disks {
		p("Disk", "%s %s %s", d.Name, d.Model, HumanBytes(d.SizeBytes))
	}
	for _, v := range inv.Volumes {
		p("Volume", "%s %s %s (%s free)", v.Mountpoint, v.Filesystem, HumanBytes(v.TotalBytes), HumanBytes(v.FreeBytes))
	}
	for _, n := range inv.Networks {
		var addrs []string
		for _, a := range append(append([]IPAddr{}, n.IPv4...), n.IPv6...) {
			addrs = append(addrs, fmt.Sprintf("%s/%d", a.Address, a.Prefix))
		}
		p("Network", "%s %s %s", n.Name, n.MAC, strings.Join(addrs, " "))
	}
	counts := []struct {
		k string
		n int
	}{{"Software", len(inv.Software)}, {"Users", len(inv.Users)}, {"Groups", len(inv.Groups)}, {"Logins", len(inv.Logins)}, {"USB devices", len(inv.USB)}, {"Controllers", len(inv.Controllers)}, {"Processes", len(inv.Processes)},
		{"Firewalls", len(inv.Firewalls)}, {"LVM volume groups", len(inv.VolumeGroups)}, {"LVM logical volumes", len(inv.LogicalVolumes)},
		{"Ports", len(inv.Ports)}, {"Slots", len(inv.Slots)}, {"Power supplies", len(inv.PowerSupplies)},
		{"Sound devices", len(inv.Sounds)}, {"Input devices", len(inv.Inputs)}, {"Modems", len(inv.Modems)}, {"Cameras", len(inv.Cameras)},
		{"Remote management", len(inv.RemoteMgmt)}, {"Virtual machines", len(inv.VirtualMachines)},
		{"Database services", len(inv.DatabaseServices)}, {"Licences", len(inv.Licenses)}, {"Environment variables", len(inv.Envs)}}
	for _, c := range counts {
		if c.n > 0 {
			p(c.k, "%d", c.n)
		}
	}
	var failed []string
	for _, c := range inv.Meta.Categories {
		if c.Error != "" {
			failed = append(failed, c.Name+": "+c.Error)
		}
	}
	p("Collected", "%s in %.0f ms", inv.Meta.CollectedAt.Format(time.RFC3339), inv.Meta.Duration*1000)
	for _, f := range failed {
		p("Category error", "%s", f)
	}
	return tw.Flush()
}

func nonEmpty(v ...string) []string {
	out := v[:0]
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func res(w, h int) string {
	if w == 0 || h == 0 {
		return ""
	}
	return fmt.Sprintf("%dx%d", w, h)
}

// HumanBytes prints a size with a binary unit.
func HumanBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
