package collectors

import (
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// Ports decodes the type 8 Port Connector structures the way glpi-agent's dmidecode reader
// maps them: name = internal (else external) designator, caption = external connector,
// description = internal connector, type = port type.
func (s *SMBIOS) Ports() []inventory.Port {
	var out []inventory.Port
	for i := range s.Structures {
		st := &s.Structures[i]
		if st.Type != 8 || len(st.Formatted) < 9 {
			continue
		}
		in, ext := st.str(4), st.str(6)
		inConn, _ := st.u8(5)
		extConn, _ := st.u8(7)
		typ, _ := st.u8(8)
		p := inventory.Port{Name: firstStr(in, ext), Type: smbiosName(&portTypes, typ),
			Connector: smbiosName(&connectorTypes, extConn), Description: smbiosName(&connectorTypes, inConn)}
		if p.Type == "" {
			p.Type = "Other"
		}
		out = append(out, p)
	}
	return out
}

// Slots decodes the type 9 System Slots structures: designation, "width type" as dmidecode
// prints it ("x16 PCI Express 3") and whether the slot is in use.
func (s *SMBIOS) Slots() []inventory.Slot {
	var out []inventory.Slot
	for i := range s.Structures {
		st := &s.Structures[i]
		if st.Type != 9 || len(st.Formatted) < 8 {
			continue
		}
		typ, _ := st.u8(5)
		width, _ := st.u8(6)
		usage, _ := st.u8(7)
		sl := inventory.Slot{Name: st.str(4)}
		sl.Description = strings.TrimSpace(smbiosName(&slotWidths, width) + " " + smbiosName(&slotTypes, typ))
		switch usage {
		case 3:
			sl.Status = "free"
		case 4:
			sl.Status = "used"
		}
		if sl.Name == "" {
			sl.Name = sl.Description
		}
		if sl.Name != "" {
			out = append(out, sl)
		}
	}
	return out
}

// PowerSupplies decodes the type 39 System Power Supply structures.
func (s *SMBIOS) PowerSupplies() []inventory.PowerSupply {
	var out []inventory.PowerSupply
	for i := range s.Structures {
		st := &s.Structures[i]
		if st.Type != 39 || len(st.Formatted) < 0x10 {
			continue
		}
		p := inventory.PowerSupply{Location: st.str(5), Name: st.str(6), Manufacturer: st.str(7), Serial: st.str(8),
			PartNumber: st.str(0x0a), Model: st.str(0x0a)}
		if w, ok := st.u16(0x0c); ok && w != 0x8000 && w != 0 {
			p.MaxWatts = int(w)
		}
		if c, ok := st.u16(0x0e); ok {
			p.HotReplaceable = c&1 != 0
			present, unplugged := c&2 != 0, c&4 != 0
			p.Plugged = present && !unplugged
			status := []string{"", "Other", "Unknown", "OK", "Non-critical", "Critical"}[min(int(c>>7&7), 5)]
			switch {
			case !present:
				p.Status = "Not Present"
			case status != "":
				p.Status = "Present, " + status
			default:
				p.Status = "Present"
			}
		}
		out = append(out, p)
	}
	return out
}

func firstStr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// smbiosName looks a code up in one of the tables below: arrays indexed by the code, laid out
// by the compiler (map literals would be built by code at every start of the agent).
func smbiosName(m *[256]string, v uint8) string { return m[v] }

// Names as dmidecode prints them (SMBIOS 3.7, 7.9 and 7.10).
var portTypes = [256]string{0x00: "None", 0x01: "Parallel Port XT/AT Compatible", 0x02: "Parallel Port PS/2",
	0x03: "Parallel Port ECP", 0x04: "Parallel Port EPP", 0x05: "Parallel Port ECP/EPP",
	0x06: "Serial Port XT/AT Compatible", 0x07: "Serial Port 16450 Compatible", 0x08: "Serial Port 16550 Compatible",
	0x09: "Serial Port 16550A Compatible", 0x0a: "SCSI Port", 0x0b: "MIDI Port", 0x0c: "Joystick Port",
	0x0d: "Keyboard Port", 0x0e: "Mouse Port", 0x0f: "SSA SCSI", 0x10: "USB", 0x11: "Firewire (IEEE P1394)",
	0x12: "PCMCIA Type I", 0x13: "PCMCIA Type II", 0x14: "PCMCIA Type III", 0x15: "Cardbus", 0x16: "Access Bus Port",
	0x17: "SCSI II", 0x18: "SCSI Wide", 0x19: "PC-98", 0x1a: "PC-98-Hireso", 0x1b: "PC-H98", 0x1c: "Video Port",
	0x1d: "Audio Port", 0x1e: "Modem Port", 0x1f: "Network Port", 0x20: "SATA", 0x21: "SAS", 0x22: "MFDP",
	0x23: "Thunderbolt", 0xa0: "8251 Compatible", 0xa1: "8251 FIFO Compatible", 0xff: "Other"}

var connectorTypes = [256]string{0x00: "None", 0x01: "Centronics", 0x02: "Mini Centronics", 0x03: "Proprietary",
	0x04: "DB-25 male", 0x05: "DB-25 female", 0x06: "DB-15 male", 0x07: "DB-15 female", 0x08: "DB-9 male",
	0x09: "DB-9 female", 0x0a: "RJ-11", 0x0b: "RJ-45", 0x0c: "50 Pin MiniSCSI", 0x0d: "Mini DIN", 0x0e: "Micro DIN",
	0x0f: "PS/2", 0x10: "Infrared", 0x11: "HP-HIL", 0x12: "Access Bus (USB)", 0x13: "SSA SCSI",
	0x14: "Circular DIN-8 male", 0x15: "Circular DIN-8 female", 0x16: "On Board IDE", 0x17: "On Board Floppy",
	0x18: "9 Pin Dual Inline (pin 10 cut)", 0x19: "25 Pin Dual Inline (pin 26 cut)", 0x1a: "50 Pin Dual Inline",
	0x1b: "68 Pin Dual Inline", 0x1c: "On Board Sound Input From CD-ROM", 0x1d: "Mini Centronics Type-14",
	0x1e: "Mini Centronics Type-26", 0x1f: "Mini Jack (headphones)", 0x20: "BNC", 0x21: "IEEE 1394",
	0x22: "SAS/SATA Plug Receptacle", 0x23: "USB Type-C Receptacle", 0xa0: "PC-98", 0xa1: "PC-98 Hireso",
	0xa2: "PC-H98", 0xa3: "PC-98 Note", 0xa4: "PC-98 Full", 0xff: "Other"}

var slotWidths = [256]string{0x03: "8-bit", 0x04: "16-bit", 0x05: "32-bit", 0x06: "64-bit", 0x07: "128-bit",
	0x08: "x1", 0x09: "x2", 0x0a: "x4", 0x0b: "x8", 0x0c: "x12", 0x0d: "x16", 0x0e: "x32"}

var slotTypes = [256]string{0x01: "Other", 0x02: "Unknown", 0x03: "ISA", 0x04: "MCA", 0x05: "EISA", 0x06: "PCI",
	0x07: "PC Card (PCMCIA)", 0x08: "VLB", 0x09: "Proprietary", 0x0a: "Processor Card", 0x0b: "Proprietary Memory Card",
	0x0c: "I/O Riser Card", 0x0d: "NuBus", 0x0e: "PCI-66", 0x0f: "AGP", 0x10: "AGP 2x", 0x11: "AGP 4x", 0x12: "PCI-X",
	0x13: "AGP 8x", 0x14: "M.2 Socket 1-DP", 0x15: "M.2 Socket 1-SD", 0x16: "M.2 Socket 2", 0x17: "M.2 Socket 3",
	0x18: "MXM Type I", 0x19: "MXM Type II", 0x1a: "MXM Type III", 0x1b: "MXM Type III-HE", 0x1c: "MXM Type IV",
	0x1d: "MXM 3.0 Type A", 0x1e: "MXM 3.0 Type B", 0x1f: "PCI Express 2 SFF-8639 (U.2)",
	0x20: "PCI Express 3 SFF-8639 (U.2)", 0x21: "PCI Express Mini 52-pin with bottom-side keep-outs",
	0x22: "PCI Express Mini 52-pin without bottom-side keep-outs", 0x23: "PCI Express Mini 76-pin",
	0x24: "PCI Express 4 SFF-8639 (U.2)", 0x25: "PCI Express 5 SFF-8639 (U.2)", 0x26: "OCP NIC 3.0 Small Form Factor (SFF)",
	0x27: "OCP NIC 3.0 Large Form Factor (LFF)", 0x28: "OCP NIC Prior to 3.0", 0x30: "CXL FLexbus 1.0",
	0xa0: "PC-98/C20", 0xa1: "PC-98/C24", 0xa2: "PC-98/E", 0xa3: "PC-98/Local Bus", 0xa4: "PC-98/Card",
	0xa5: "PCI Express", 0xa6: "PCI Express x1", 0xa7: "PCI Express x2", 0xa8: "PCI Express x4", 0xa9: "PCI Express x8",
	0xaa: "PCI Express x16", 0xab: "PCI Express 2", 0xac: "PCI Express 2 x1", 0xad: "PCI Express 2 x2",
	0xae: "PCI Express 2 x4", 0xaf: "PCI Express 2 x8", 0xb0: "PCI Express 2 x16", 0xb1: "PCI Express 3",
	0xb2: "PCI Express 3 x1", 0xb3: "PCI Express 3 x2", 0xb4: "PCI Express 3 x4", 0xb5: "PCI Express 3 x8",
	0xb6: "PCI Express 3 x16", 0xb8: "PCI Express 4", 0xb9: "PCI Express 4 x1", 0xba: "PCI Express 4 x2",
	0xbb: "PCI Express 4 x4", 0xbc: "PCI Express 4 x8", 0xbd: "PCI Express 4 x16", 0xbe: "PCI Express 5",
	0xbf: "PCI Express 5 x1", 0xc0: "PCI Express 5 x2", 0xc1: "PCI Express 5 x4", 0xc2: "PCI Express 5 x8",
	0xc3: "PCI Express 5 x16", 0xc4: "PCI Express 6+", 0xc5: "EDSFF E1", 0xc6: "EDSFF E3"}
