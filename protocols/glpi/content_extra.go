package glpi

import (
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// decimalMB converts bytes to the decimal megabytes (10^6) GLPI shows for disks and LVM: both
// reference agents send disksize that way, and lvm's "--units M" (what glpi-agent runs) is SI.
func decimalMB(b uint64) int64 { return int64(b / 1_000_000) }

// addSections maps the sections beyond the original core: environment, firewalls, LVM, SMBIOS
// ports/slots/power supplies, sounds, inputs, modems, cameras, remote management, hosted
// virtual machines, database services and licences.
func addSections(c obj, inv *inventory.Inventory) {
	var envs []any
	for _, e := range inv.Envs {
		if e.Key != "" {
			envs = append(envs, obj{"key": e.Key, "val": e.Value})
		}
	}
	setList(c, "envs", envs)

	var fws []any
	for _, f := range inv.Firewalls {
		if f.Status == "" {
			continue
		}
		e := obj{"status": f.Status}
		set(e, "profile", f.Profile)
		fws = append(fws, e)
	}
	setList(c, "firewalls", fws)

	var pvs []any
	for _, p := range inv.PhysicalVolumes {
		if p.Device == "" || p.UUID == "" {
			continue // both required
		}
		e := obj{"device": p.Device, "format": firstNonEmpty(p.Format, "lvm2"), "pv_uuid": p.UUID,
			"size": decimalMB(p.SizeBytes), "free": decimalMB(p.FreeBytes), "pv_pe_count": int64(p.PECount)}
		setInt(e, "pe_size", decimalMB(p.PESizeBytes))
		set(e, "vg_uuid", p.VGUUID)
		set(e, "attr", p.Attr)
		pvs = append(pvs, e)
	}
	setList(c, "physical_volumes", pvs)

	var vgs []any
	for _, g := range inv.VolumeGroups {
		if g.Name == "" || g.UUID == "" {
			continue
		}
		e := obj{"vg_name": g.Name, "vg_uuid": g.UUID, "size": decimalMB(g.SizeBytes), "free": decimalMB(g.FreeBytes),
			"pv_count": int64(g.PVCount), "lv_count": int64(g.LVCount),
			// lvm prints the extent size in the unit asked for with two decimals ("4.19").
			"vg_extent_size": strconv.FormatFloat(float64(g.ExtentBytes)/1e6, 'f', 2, 64)}
		set(e, "attr", g.Attr)
		vgs = append(vgs, e)
	}
	setList(c, "volume_groups", vgs)

	var lvs []any
	for _, l := range inv.LogicalVolumes {
		if l.Name == "" || l.UUID == "" {
			continue
		}
		e := obj{"lv_name": l.Name, "lv_uuid": l.UUID, "size": decimalMB(l.SizeBytes)}
		set(e, "vg_uuid", l.VGUUID)
		set(e, "vg_name", l.VGName)
		set(e, "attr", l.Attr)
		setInt(e, "seg_count", int64(l.Segments))
		lvs = append(lvs, e)
	}
	setList(c, "logical_volumes", lvs)

	var ports []any
	for _, p := range inv.Ports {
		if p.Type == "" {
			continue
		}
		e := obj{"type": p.Type}
		set(e, "name", p.Name)
		set(e, "caption", p.Connector)
		set(e, "description", p.Description)
		ports = append(ports, e)
	}
	setList(c, "ports", ports)

	var slots []any
	for _, s := range inv.Slots {
		if s.Name == "" {
			continue
		}
		e := obj{"name": s.Name}
		set(e, "description", s.Description)
		set(e, "designation", s.Name)
		if s.Status == "free" || s.Status == "used" {
			e["status"] = s.Status
		}
		slots = append(slots, e)
	}
	setList(c, "slots", slots)

	var psus []any
	for _, p := range inv.PowerSupplies {
		e := obj{}
		set(e, "name", p.Name)
		set(e, "location", p.Location)
		set(e, "manufacturer", p.Manufacturer)
		set(e, "serialnumber", p.Serial)
		set(e, "partnum", p.PartNumber)
		set(e, "model", p.Model)
		set(e, "status", p.Status)
		setInt(e, "power_max", int64(p.MaxWatts))
		if len(e) == 0 {
			continue
		}
		e["hotreplaceable"] = p.HotReplaceable
		e["plugged"] = p.Plugged
		psus = append(psus, e)
	}
	setList(c, "powersupplies", psus)

	var sounds []any
	for _, s := range inv.Sounds {
		e := obj{}
		set(e, "name", s.Name)
		set(e, "caption", s.Name)
		set(e, "manufacturer", s.Manufacturer)
		set(e, "description", s.Description)
		sounds = appendObj(sounds, e)
	}
	setList(c, "sounds", sounds)

	var inputs []any
	for _, d := range inv.Inputs {
		e := obj{}
		set(e, "name", d.Name)
		set(e, "caption", d.Name)
		set(e, "description", d.Name)
		set(e, "type", d.Type)
		set(e, "manufacturer", d.Manufacturer)
		set(e, "interface", d.Interface)
		set(e, "layout", d.Layout)
		set(e, "pointingtype", d.PointingType)
		inputs = appendObj(inputs, e)
	}
	setList(c, "inputs", inputs)

	var modems []any
	for _, m := range inv.Modems {
		e := obj{}
		set(e, "name", m.Name)
		set(e, "description", m.Description)
		set(e, "type", m.Type)
		set(e, "model", m.Model)
		set(e, "manufacturer", m.Manufacturer)
		set(e, "serial", m.Serial)
		set(e, "imei", m.IMEI)
		modems = appendObj(modems, e)
	}
	setList(c, "modems", modems)

	var cams []any
	for _, k := range inv.Cameras {
		e := obj{}
		set(e, "designation", k.Name)
		set(e, "manufacturer", k.Manufacturer)
		set(e, "model", firstNonEmpty(k.Model, k.Name))
		cams = appendObj(cams, e)
	}
	setList(c, "cameras", cams)

	var rms []any
	for _, r := range inv.RemoteMgmt {
		if r.ID == "" || r.Type == "" {
			continue
		}
		e := obj{"id": r.ID, "type": r.Type}
		set(e, "version", r.Version)
		rms = append(rms, e)
	}
	setList(c, "remote_mgmt", rms)

	var vms []any
	for _, v := range inv.VirtualMachines {
		if strings.TrimSpace(v.Name) == "" {
			continue
		}
		e := obj{"name": v.Name}
		set(e, "uuid", v.UUID)
		set(e, "status", vmStatus(v.Status))
		set(e, "subsystem", v.Subsystem)
		set(e, "vmtype", v.Type)
		setInt(e, "vcpu", int64(v.VCPUs))
		// Memory in MiB as glpi-agent reports it (libvirt's KiB / 1024, VirtualBox's MB).
		setInt(e, "memory", toMB(v.MemoryBytes))
		set(e, "image", v.Image)
		set(e, "mac", strings.ToLower(v.MAC))
		set(e, "owner", v.Owner)
		set(e, "comment", v.Comment)
		vms = append(vms, e)
	}
	setList(c, "virtualmachines", vms)

	var dbs []any
	for _, d := range inv.DatabaseServices {
		if d.Name == "" || d.Version == "" {
			continue // both required by the schema
		}
		e := obj{"name": d.Name, "version": d.Version, "is_active": d.Running}
		set(e, "type", d.Type)
		set(e, "manufacturer", d.Manufacturer)
		setInt(e, "port", int64(d.Port))
		set(e, "path", d.Path)
		dbs = append(dbs, e)
	}
	setList(c, "databases_services", dbs)

	var lics []any
	for _, l := range inv.Licenses {
		e := obj{}
		set(e, "name", l.Name)
		set(e, "fullname", l.FullName)
		set(e, "key", l.Key)
		set(e, "productid", l.ProductID)
		set(e, "components", l.Components)
		if l.Trial {
			e["trial"] = true
		}
		lics = appendObj(lics, e)
	}
	setList(c, "licenseinfos", lics)
}

// vmStatus maps a source's state word to GLPI's enum; unknown words are left out.
func vmStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "running", "up", "started", "restarting":
		return "running"
	case "paused", "suspended", "saved":
		return "paused"
	case "blocked":
		return "blocked"
	case "idle":
		return "idle"
	case "shutdown", "stopping", "shutting down":
		return "shutdown"
	case "crashed", "dead", "aborted":
		return "crashed"
	case "dying", "removing":
		return "dying"
	case "off", "stopped", "exited", "created", "shut off", "poweroff", "powered off", "configured":
		return "off"
	}
	return ""
}
