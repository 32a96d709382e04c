package glpi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/glpi"
)

// fullInventory is sampleInventory with every section added for issue 15.
func fullInventory() *inventory.Inventory {
	inv := sampleInventory()
	inv.Envs = []inventory.EnvVar{{Key: "LANG", Value: "C.UTF-8"}, {Key: "PATH", Value: "/usr/bin"}}
	inv.Firewalls = []inventory.Firewall{{Profile: "nftables", Backend: "nftables", Status: "on"}, {Profile: "ufw", Status: "off"}}
	inv.PhysicalVolumes = []inventory.PhysicalVolume{{Device: "/dev/sda3", Format: "lvm2", UUID: "1CmGuH-0Vwr-H3O6-dhgy-wEHS-P2jC-NuhuPS",
		VGUUID: "tZSsF8-wsLg-ZoAt-jjFY-GwGn-y2q3-QOP60c", SizeBytes: 255529 * 1_000_000, FreeBytes: 4_194_304, PECount: 60923, PESizeBytes: 4 << 20, Attr: "a--"}}
	inv.VolumeGroups = []inventory.VolumeGroup{{Name: "fedora", UUID: "tZSsF8-wsLg-ZoAt-jjFY-GwGn-y2q3-QOP60c", SizeBytes: 255529 * 1_000_000,
		FreeBytes: 4 << 20, PVCount: 1, LVCount: 3, ExtentBytes: 4 << 20, Attr: "wz--n-"}}
	inv.LogicalVolumes = []inventory.LogicalVolume{{Name: "home", UUID: "BskNPA-2ece-cWgR-cLon-iFjr-EH2e-c6Cg39", VGName: "fedora",
		VGUUID: "tZSsF8-wsLg-ZoAt-jjFY-GwGn-y2q3-QOP60c", SizeBytes: 193516 * 1_000_000, Segments: 1}}
	inv.Ports = []inventory.Port{{Name: "JUSB1", Type: "USB", Connector: "Access Bus (USB)", Description: "None"}, {Type: ""}}
	inv.Slots = []inventory.Slot{{Name: "PCIe Slot 1", Description: "x16 PCI Express 3 x16", Status: "used"}, {Name: "M.2", Status: "unknown"}}
	inv.PowerSupplies = []inventory.PowerSupply{{Name: "PWR SPLY,750W", Location: "PSU1", Manufacturer: "DELL", Serial: "CN123", PartNumber: "0Y9VFC", MaxWatts: 750, HotReplaceable: true, Plugged: true, Status: "Present, OK"}}
	inv.Sounds = []inventory.Sound{{Name: "Alder Lake PCH-P High Definition Audio Controller", Manufacturer: "Intel Corporation", Description: "rev 01"}}
	inv.Inputs = []inventory.InputDevice{{Name: "AT Translated Set 2 keyboard", Type: "keyboard", Interface: "PS/2"}}
	inv.Modems = []inventory.Modem{{Name: "Sierra Wireless EM7455", Type: "USB", IMEI: "359072061234567"}}
	inv.Cameras = []inventory.Camera{{Name: "Integrated Camera", Manufacturer: "Chicony Electronics Co.,Ltd."}}
	inv.RemoteMgmt = []inventory.RemoteMgmt{{Type: "teamviewer", ID: "1234567890", Version: "15.49.2"}, {Type: "anydesk", ID: ""}}
	inv.VirtualMachines = []inventory.VirtualMachine{{Name: "web", UUID: "4f66ad9a0b2e", Status: "exited", Subsystem: "Docker", Type: "docker", Image: "nginx", MemoryBytes: 512 << 20, VCPUs: 2, MAC: "02:42:AC:11:00:02"},
		{Name: "win11", Status: "weird", Type: "libvirt"}}
	inv.DatabaseServices = []inventory.DatabaseService{{Type: "postgresql", Name: "PostgreSQL", Version: "15.14", Port: 5432, Running: true, Path: "/usr/lib/postgresql/15/bin/postgres"},
		{Type: "redis", Name: "Redis", Version: ""}}
	inv.Licenses = []inventory.License{{Name: "Microsoft Windows 11 Pro", FullName: "Microsoft Windows 11 Pro", Key: "VK7JG-NPHTM-C97JM-9MPGT-3V66T", ProductID: "00330-80000-00000-AA123"}}
	inv.Controllers = append(inv.Controllers, inventory.Controller{Name: "Virtio 1.0 memory balloon", Type: "Unassigned class", Class: "FFFF", Revision: "01", PCIID: "1af4:1045"})
	inv.Processes = []inventory.Process{{PID: 1, User: "root", Command: "/sbin/init", MemPercent: 0.14, VirtBytes: 20 << 20}}
	inv.Disks = []inventory.Disk{{Name: "sda", SizeBytes: 250059350016}}
	return inv
}

// TestNewSectionsValidate: every new section maps to what both schemas accept, without repair,
// and with the units GLPI expects (decimal MB for disks and LVM, MiB for VM memory).
func TestNewSectionsValidate(t *testing.T) {
	inv := fullInventory()
	out, err := glpi.FormatInventory(context.Background(), inv, identityFor())
	if err != nil {
		t.Fatal(err)
	}
	validateBoth(t, out)
	if d := glpi.DroppedFields(inv, identityFor()); len(d) > 0 {
		t.Errorf("repairs needed: %v", d)
	}
	var m struct {
		Content map[string]json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"envs", "firewalls", "physical_volumes", "volume_groups", "logical_volumes", "ports", "slots", "powersupplies",
		"sounds", "inputs", "modems", "cameras", "remote_mgmt", "virtualmachines", "databases_services", "licenseinfos"} {
		if m.Content[k] == nil {
			t.Errorf("section %s missing", k)
		}
	}
	var c struct {
		Storages []struct{ Disksize int64 }        `json:"storages"`
		PVs      []struct{ Size, PvPeCount int64 } `json:"physical_volumes"`
		VGs      []struct {
			VgExtentSize string `json:"vg_extent_size"`
		} `json:"volume_groups"`
		VMs []struct {
			Memory      int64
			Status, Mac string
		} `json:"virtualmachines"`
		DBs []struct {
			Name     string
			IsActive bool `json:"is_active"`
		} `json:"databases_services"`
		Ctrls  []struct{ Pciclass, Rev, Type string } `json:"controllers"`
		Procs  []struct{ Mem string }                 `json:"processes"`
		Ports  []any                                  `json:"ports"`
		Slots  []struct{ Status string }              `json:"slots"`
		Remote []any                                  `json:"remote_mgmt"`
	}
	raw, _ := json.Marshal(m.Content)
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Storages[0].Disksize != 250059 {
		t.Errorf("disksize = %d, want 250059 (decimal MB)", c.Storages[0].Disksize)
	}
	if c.PVs[0].Size != 255529 || c.VGs[0].VgExtentSize != "4.19" {
		t.Errorf("LVM = %+v %+v", c.PVs, c.VGs)
	}
	if len(c.VMs) != 2 || c.VMs[0].Memory != 512 || c.VMs[0].Status != "off" || c.VMs[0].Mac != "02:42:ac:11:00:02" || c.VMs[1].Status != "" {
		t.Errorf("vms = %+v", c.VMs)
	}
	if len(c.DBs) != 1 || !c.DBs[0].IsActive {
		t.Errorf("databases = %+v (one without version is left out)", c.DBs)
	}
	last := c.Ctrls[len(c.Ctrls)-1]
	if last.Pciclass != "ffff" || last.Rev != "01" || last.Type != "Unassigned class" {
		t.Errorf("controller = %+v", last)
	}
	if c.Procs[0].Mem != "0.1" {
		t.Errorf("process mem = %q", c.Procs[0].Mem)
	}
	if len(c.Ports) != 1 || len(c.Remote) != 1 || c.Slots[1].Status != "" {
		t.Errorf("ports %v remote %v slots %+v", c.Ports, c.Remote, c.Slots)
	}
}

// Without DMI (containers, some ARM boards) bios and hardware are still sent.
func TestBIOSAndHardwareWithoutDMI(t *testing.T) {
	inv := &inventory.Inventory{}
	out, err := glpi.FormatInventory(context.Background(), inv, identityFor())
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Content map[string]json.RawMessage `json:"content"`
	}
	_ = json.Unmarshal(out, &m)
	if m.Content["bios"] == nil || m.Content["hardware"] == nil {
		t.Errorf("content = %s", out)
	}
	validateBoth(t, out)
}
