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
	if inv.BIOS.Vendor != "" {
		p("BIOS", "%s %s %s", inv.BIOS.Vendor, inv.BIOS.Version, inv.BIOS.BootType)
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
	}{{"Software", len(inv.Software)}, {"Users", len(inv.Users)}, {"Monitors", len(inv.Monitors)}, {"Printers", len(inv.Printers)}, {"USB devices", len(inv.USB)}, {"Processes", len(inv.Processes)}}
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
