package collectors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// SMBIOS is a decoded SMBIOS structure table. Linux reads the table from
// /sys/firmware/dmi/tables/DMI, Windows from GetSystemFirmwareTable('RSMB') (ParseRawSMBIOSData).
type SMBIOS struct {
	Major, Minor int // 0 when unknown
	Structures   []SMBIOSStructure
}

// SMBIOSStructure is one structure: its formatted area (header included, so offsets match the
// specification) and its string set.
type SMBIOSStructure struct {
	Type      uint8
	Handle    uint16
	Formatted []byte
	Strings   []string
}

// ErrSMBIOSTruncated says the table ended inside a structure.
var ErrSMBIOSTruncated = errors.New("SMBIOS table truncated")

// ParseSMBIOS decodes a raw structure table. It stops at the end-of-table structure (type 127)
// or the end of data; a structure cut short is an error, with the complete ones returned.
func ParseSMBIOS(table []byte, major, minor int) (*SMBIOS, error) {
	s := &SMBIOS{Major: major, Minor: minor}
	for off := 0; off+4 <= len(table); {
		typ, length := table[off], int(table[off+1])
		if length < 4 {
			return s, fmt.Errorf("parse SMBIOS: structure type %d at offset %d has length %d", typ, off, length)
		}
		if off+length > len(table) {
			return s, fmt.Errorf("parse SMBIOS: structure type %d at offset %d: %w", typ, off, ErrSMBIOSTruncated)
		}
		st := SMBIOSStructure{Type: typ, Handle: binary.LittleEndian.Uint16(table[off+2:]), Formatted: table[off : off+length]}
		// The string set follows, each NUL-terminated, the set ended by an extra NUL (two NULs
		// when empty).
		p := off + length
		end := -1
		for i := p; i+1 < len(table); i++ {
			if table[i] == 0 && table[i+1] == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return s, fmt.Errorf("parse SMBIOS: strings of structure type %d at offset %d: %w", typ, off, ErrSMBIOSTruncated)
		}
		if end > p {
			for str := range strings.SplitSeq(string(table[p:end]), "\x00") {
				st.Strings = append(st.Strings, strings.TrimSpace(strings.ToValidUTF8(str, "")))
			}
		}
		s.Structures = append(s.Structures, st)
		off = end + 2
		if typ == 127 {
			break
		}
	}
	return s, nil
}

// ParseRawSMBIOSData decodes what Windows' GetSystemFirmwareTable('RSMB', 0) returns: an 8-byte
// RawSMBIOSData header (calling method, major, minor, DMI revision, uint32 length) and the table.
func ParseRawSMBIOSData(b []byte) (*SMBIOS, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("parse RawSMBIOSData: %d bytes, want at least 8", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[4:8]))
	if n > len(b)-8 {
		n = len(b) - 8
	}
	return ParseSMBIOS(b[8:8+n], int(b[1]), int(b[2]))
}

// SMBIOSVersion reads the version from an SMBIOS 2.x ("_SM_") or 3.x ("_SM3_") entry point, as
// /sys/firmware/dmi/tables/smbios_entry_point holds it. Zeros when unrecognised.
func SMBIOSVersion(entry []byte) (major, minor int) {
	switch {
	case len(entry) >= 9 && string(entry[:5]) == "_SM3_":
		return int(entry[7]), int(entry[8])
	case len(entry) >= 8 && string(entry[:4]) == "_SM_":
		return int(entry[6]), int(entry[7])
	}
	return 0, 0
}

// str returns string number idx of the structure (1-based; 0 means none), placeholder-cleaned.
func (st *SMBIOSStructure) str(off int) string {
	if off >= len(st.Formatted) {
		return ""
	}
	i := int(st.Formatted[off])
	if i == 0 || i > len(st.Strings) {
		return ""
	}
	return CleanDMI(st.Strings[i-1])
}

func (st *SMBIOSStructure) u8(off int) (uint8, bool) {
	if off >= len(st.Formatted) {
		return 0, false
	}
	return st.Formatted[off], true
}

func (st *SMBIOSStructure) u16(off int) (uint16, bool) {
	if off+2 > len(st.Formatted) {
		return 0, false
	}
	return binary.LittleEndian.Uint16(st.Formatted[off:]), true
}

func (st *SMBIOSStructure) u32(off int) (uint32, bool) {
	if off+4 > len(st.Formatted) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(st.Formatted[off:]), true
}

// Apply fills the inventory fields SMBIOS knows (system, baseboard, chassis, BIOS, memory
// modules), leaving fields already set alone.
func (s *SMBIOS) Apply(inv *inventory.Inventory) {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for i := range s.Structures {
		st := &s.Structures[i]
		switch st.Type {
		case 0:
			set(&inv.BIOS.Vendor, st.str(4))
			set(&inv.BIOS.Version, st.str(5))
			if inv.BIOS.DateRaw == "" {
				inv.BIOS.DateRaw = st.str(8)
				inv.BIOS.ReleaseDate = ParseBIOSDate(inv.BIOS.DateRaw)
			}
		case 1:
			set(&inv.System.Manufacturer, st.str(4))
			set(&inv.System.Model, st.str(5))
			set(&inv.System.Serial, st.str(7))
			if len(st.Formatted) >= 0x18 {
				set(&inv.System.UUID, smbiosUUID(st.Formatted[8:24], s.Major, s.Minor))
			}
			set(&inv.System.SKU, st.str(0x19))
			set(&inv.System.Family, st.str(0x1a))
		case 2:
			b := &inv.System.Baseboard
			set(&b.Manufacturer, st.str(4))
			set(&b.Product, st.str(5))
			set(&b.Version, st.str(6))
			set(&b.Serial, st.str(7))
			set(&b.AssetTag, st.str(8))
		case 3:
			if t, ok := st.u8(5); ok {
				set(&inv.System.ChassisType, ChassisName(int(t&0x7f)))
			}
			set(&inv.System.AssetTag, st.str(8))
		case 16:
			if n, ok := st.u16(0x0d); ok && inv.Memory.Slots == 0 {
				inv.Memory.Slots = int(n)
			}
		case 17:
			if m, ok := st.memoryModule(); ok {
				inv.Memory.Modules = append(inv.Memory.Modules, m)
			}
		}
	}
}

// memoryModule decodes a type 17 Memory Device; ok is false for an empty slot.
func (st *SMBIOSStructure) memoryModule() (inventory.MemoryModule, bool) {
	var m inventory.MemoryModule
	size, ok := st.u16(0x0c)
	if !ok || size == 0 || size == 0xffff {
		return m, false
	}
	switch {
	case size == 0x7fff:
		if ext, ok := st.u32(0x1c); ok {
			m.SizeBytes = uint64(ext&0x7fffffff) << 20
		}
	case size&0x8000 != 0:
		m.SizeBytes = uint64(size&0x7fff) << 10
	default:
		m.SizeBytes = uint64(size) << 20
	}
	m.Slot = st.str(0x10)
	m.Bank = st.str(0x11)
	if ff, ok := st.u8(0x0e); ok {
		m.FormFactor = lookup(memoryFormFactors, int(ff))
	}
	if t, ok := st.u8(0x12); ok {
		m.Type = lookup(memoryTypes, int(t))
	}
	// Speed in MT/s; 0xFFFF means "see the 32-bit extended speed" (SMBIOS 3.3).
	if sp, ok := st.u16(0x15); ok && sp != 0 {
		mts := uint64(sp)
		if sp == 0xffff {
			ext, _ := st.u32(0x54)
			mts = uint64(ext & 0x7fffffff)
		}
		m.SpeedHz = mts * 1_000_000
	}
	m.Manufacturer = st.str(0x17)
	m.Serial = st.str(0x18)
	m.PartNumber = st.str(0x1a)
	return m, true
}

// smbiosUUID formats the 16-byte system UUID; since SMBIOS 2.6 the first three fields are
// little-endian. All-zero and all-FF mean "not set".
func smbiosUUID(b []byte, major, minor int) string {
	allSame := true
	for _, c := range b {
		if c != b[0] {
			allSame = false
			break
		}
	}
	if allSame && (b[0] == 0 || b[0] == 0xff) {
		return ""
	}
	u := [16]byte(b)
	if major == 0 || major > 2 || major == 2 && minor >= 6 {
		u[0], u[1], u[2], u[3] = u[3], u[2], u[1], u[0]
		u[4], u[5] = u[5], u[4]
		u[6], u[7] = u[7], u[6]
	}
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}

// ParseBIOSDate reads the SMBIOS date "MM/DD/YYYY" (or "MM/DD/YY"); zero when unparsable.
func ParseBIOSDate(s string) time.Time {
	for _, layout := range []string{"01/02/2006", "01/02/06", "2006-01-02", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// CleanDMI blanks the placeholder strings firmware vendors leave in DMI fields.
func CleanDMI(s string) string {
	s = strings.TrimSpace(s)
	if strings.Trim(s, "0") == "" || strings.Trim(s, "F") == "" || strings.Trim(s, "X") == "" {
		return "" // 00000000, FFFFFFFF, XXXXXXXX
	}
	switch strings.ToLower(s) {
	case "", "to be filled by o.e.m.", "to be filled by oem", "default string", "not specified",
		"not applicable", "system serial number", "system product name", "system manufacturer",
		"system version", "base board serial number", "chassis serial number", "0123456789",
		"none", "n/a", "na", "unknown", "oem", "o.e.m.", "123456789", "xxxxxxxxxxx", "empty",
		"not available", "type1productconfigid", "sku", "invalid", "no asset information",
		"no asset tag", "asset-1234567890", "chassis manufacture", "default", "undefined":
		return ""
	}
	return s
}

func lookup(names []string, i int) string {
	if i > 0 && i < len(names) {
		return names[i]
	}
	return ""
}

// ChassisName is the SMBIOS chassis type name (also in /sys/class/dmi/id/chassis_type).
func ChassisName(t int) string { return lookup(chassisTypes, t) }

var chassisTypes = []string{"", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box",
	"Mini Tower", "Tower", "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station",
	"All in One", "Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis",
	"Expansion Chassis", "SubChassis", "Bus Expansion Chassis", "Peripheral Chassis",
	"RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system chassis",
	"Compact PCI", "Advanced TCA", "Blade", "Blade Enclosure", "Tablet", "Convertible",
	"Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"}

var memoryTypes = []string{"", "Other", "Unknown", "DRAM", "EDRAM", "VRAM", "SRAM", "RAM", "ROM",
	"Flash", "EEPROM", "FEPROM", "EPROM", "CDRAM", "3DRAM", "SDRAM", "SGRAM", "RDRAM", "DDR",
	"DDR2", "DDR2 FB-DIMM", "", "", "", "DDR3", "FBD2", "DDR4", "LPDDR", "LPDDR2", "LPDDR3",
	"LPDDR4", "Logical non-volatile device", "HBM", "HBM2", "DDR5", "LPDDR5", "HBM3"}

var memoryFormFactors = []string{"", "Other", "Unknown", "SIMM", "SIP", "Chip", "DIP", "ZIP",
	"Proprietary Card", "DIMM", "TSOP", "Row of chips", "RIMM", "SODIMM", "SRIMM", "FB-DIMM",
	"Die", "CAMM"}

// Processors decodes the populated type 4 Processor structures (Windows uses them for what
// the registry lacks; Linux for socket names and the rated maximum speed).
func (s *SMBIOS) Processors() []inventory.CPU {
	var out []inventory.CPU
	for i := range s.Structures {
		st := &s.Structures[i]
		if st.Type != 4 {
			continue
		}
		if status, ok := st.u8(0x18); ok && status&0x40 == 0 {
			continue // empty socket
		}
		c := inventory.CPU{Socket: st.str(0x04), Vendor: st.str(0x07), Model: st.str(0x10), Serial: st.str(0x20)}
		if len(st.Formatted) >= 0x10 {
			c.ID = strings.ToUpper(fmt.Sprintf("%x", st.Formatted[8:16]))
		}
		if v, ok := st.u16(0x14); ok && v != 0 && v != 0xffff {
			c.MaxSpeedHz = uint64(v) * 1_000_000
		}
		if v, ok := st.u16(0x16); ok && v != 0 && v != 0xffff {
			c.SpeedHz = uint64(v) * 1_000_000
		}
		if v, ok := st.u8(0x23); ok {
			c.Cores = int(v)
			if v2, ok := st.u16(0x2a); ok && v == 0xff {
				c.Cores = int(v2)
			}
		}
		if v, ok := st.u8(0x25); ok {
			c.Threads = int(v)
			if v2, ok := st.u16(0x2e); ok && v == 0xff {
				c.Threads = int(v2)
			}
		}
		out = append(out, c)
	}
	return out
}
