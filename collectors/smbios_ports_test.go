package collectors

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// smbiosStruct encodes one structure: header, formatted fields after it, then its strings.
func smbiosStruct(typ uint8, handle uint16, fields []byte, strs ...string) []byte {
	var b bytes.Buffer
	b.WriteByte(typ)
	b.WriteByte(byte(4 + len(fields)))
	_ = binary.Write(&b, binary.LittleEndian, handle)
	b.Write(fields)
	for _, s := range strs {
		b.WriteString(s)
		b.WriteByte(0)
	}
	if len(strs) == 0 {
		b.WriteByte(0)
	}
	b.WriteByte(0)
	return b.Bytes()
}

// serverSMBIOS is a generated table shaped like a two-PSU rack server's (dmidecode -t 8,9,39
// of a Dell PowerEdge R740): port connectors, slots in use and free, power supplies.
func serverSMBIOS() []byte {
	var t []byte
	// Type 8: internal designator, internal connector, external designator, external connector, port type.
	t = append(t, smbiosStruct(8, 0x0800, []byte{1, 0x00, 2, 0x0f, 0x0d}, "J1A1", "PS/2 Keyboard")...)
	t = append(t, smbiosStruct(8, 0x0801, []byte{0, 0x00, 1, 0x12, 0x10}, "USB1")...)
	t = append(t, smbiosStruct(8, 0x0802, []byte{0, 0x00, 1, 0x07, 0x1c}, "VGA")...)
	t = append(t, smbiosStruct(8, 0x0803, []byte{1, 0x0b, 0, 0x00, 0x1f}, "JLAN1")...)
	// Type 9: designation, type, width, current usage, length, id(2), characteristics 1-2, segment, bus, devfn.
	t = append(t, smbiosStruct(9, 0x0900, []byte{1, 0xb6, 0x0d, 4, 4, 1, 0, 0x0c, 0x01, 0, 0, 0x3b, 0}, "PCIe Slot 1")...)
	t = append(t, smbiosStruct(9, 0x0901, []byte{1, 0xb5, 0x0b, 3, 4, 2, 0, 0x0c, 0x01, 0, 0, 0xff, 0xff}, "PCIe Slot 2")...)
	// Type 39: group, location, name, manufacturer, serial, asset tag, model part number,
	// revision, max power (W), characteristics, input voltage/cooling/current probe handles.
	psu := func(n uint8, chars uint16) []byte {
		f := []byte{n, 1, 2, 3, 4, 5, 6, 7}
		f = binary.LittleEndian.AppendUint16(f, 750)
		f = binary.LittleEndian.AppendUint16(f, chars)
		f = append(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		return f
	}
	// 0x01a3: hot replaceable, present, status OK (3<<7), switching type 4<<10.
	t = append(t, smbiosStruct(39, 0x2700, psu(1, 0x11a3), "PSU1", "PWR SPLY,750W,RDNT,DELTA", "DELL", "CNDED0083F0123", "Not Specified", "0Y9VFC", "A00")...)
	// Second PSU present but unplugged (bit 2), status critical (5<<7).
	t = append(t, smbiosStruct(39, 0x2701, psu(1, 0x1287), "PSU2", "PWR SPLY,750W,RDNT,DELTA", "DELL", "CNDED0083F0456", "Not Specified", "0Y9VFC", "A00")...)
	t = append(t, smbiosStruct(127, 0xffff, nil)...)
	return t
}

func TestSMBIOSPortsSlotsPowerSupplies(t *testing.T) {
	table := serverSMBIOS()
	if os.Getenv("OMNIAGENT_UPDATE_FIXTURES") != "" {
		_ = os.WriteFile("testdata/linux/smbios_server.bin", table, 0o644)
	}
	fixture := readFixture(t, "smbios_server.bin")
	if !bytes.Equal(fixture, table) {
		t.Fatal("testdata/linux/smbios_server.bin differs from the generator (regenerate with OMNIAGENT_UPDATE_FIXTURES=1)")
	}
	s, err := ParseSMBIOS(fixture, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	ports := s.Ports()
	if len(ports) != 4 {
		t.Fatalf("ports = %+v", ports)
	}
	if p := ports[0]; p.Name != "J1A1" || p.Type != "Keyboard Port" || p.Connector != "PS/2" || p.Description != "None" {
		t.Errorf("port 0 = %+v", p)
	}
	if p := ports[1]; p.Name != "USB1" || p.Type != "USB" || p.Connector != "Access Bus (USB)" {
		t.Errorf("port 1 = %+v", p)
	}
	if p := ports[2]; p.Name != "VGA" || p.Type != "Video Port" || p.Connector != "DB-15 female" {
		t.Errorf("port 2 = %+v", p)
	}
	if p := ports[3]; p.Name != "JLAN1" || p.Type != "Network Port" || p.Description != "RJ-45" {
		t.Errorf("port 3 = %+v", p)
	}
	slots := s.Slots()
	if len(slots) != 2 || slots[0].Name != "PCIe Slot 1" || slots[0].Description != "x16 PCI Express 3 x16" || slots[0].Status != "used" ||
		slots[1].Description != "x8 PCI Express 3 x8" || slots[1].Status != "free" {
		t.Errorf("slots = %+v", slots)
	}
	psus := s.PowerSupplies()
	if len(psus) != 2 {
		t.Fatalf("power supplies = %+v", psus)
	}
	if p := psus[0]; p.Location != "PSU1" || p.Name != "PWR SPLY,750W,RDNT,DELTA" || p.Manufacturer != "DELL" || p.Serial != "CNDED0083F0123" ||
		p.PartNumber != "0Y9VFC" || p.MaxWatts != 750 || !p.HotReplaceable || !p.Plugged || p.Status != "Present, OK" {
		t.Errorf("psu 0 = %+v", p)
	}
	if p := psus[1]; p.Plugged || p.Status != "Present, Critical" {
		t.Errorf("psu 1 = %+v", p)
	}
	// Cut tables never panic and keep what was complete.
	for n := range len(fixture) {
		if s, _ := ParseSMBIOS(fixture[:n], 3, 2); s != nil {
			_, _, _ = s.Ports(), s.Slots(), s.PowerSupplies()
		}
	}
}
