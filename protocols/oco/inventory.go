package oco

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// TimeLayout is the server's "Y-m-d H:i:s" (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// UpdateData is the data of oco.agent.update, field names and types as the server expects.
type UpdateData struct {
	Hostname      string      `json:"hostname"`
	OS            string      `json:"os"`
	OSVersion     string      `json:"os_version"`
	OSLicense     string      `json:"os_license"`
	OSLanguage    string      `json:"os_language"`
	KernelVersion string      `json:"kernel_version"`
	Architecture  string      `json:"architecture"`
	CPU           string      `json:"cpu"`
	GPU           string      `json:"gpu"`
	RAM           int64       `json:"ram"`
	AgentVersion  string      `json:"agent_version"`
	Serial        string      `json:"serial"`
	Manufacturer  string      `json:"manufacturer"`
	Model         string      `json:"model"`
	BIOSVersion   string      `json:"bios_version"`
	Uptime        int64       `json:"uptime"`
	BatteryLevel  any         `json:"battery_level"`  // float 0–1 or false
	BatteryStatus any         `json:"battery_status"` // 1 AC, 2 battery, or false
	BootType      string      `json:"boot_type"`
	SecureBoot    string      `json:"secure_boot"`
	Domain        string      `json:"domain"`
	Networks      []NetEntry  `json:"networks"`
	Screens       []Screen    `json:"screens"`
	Printers      []Printer   `json:"printers"`
	Partitions    []Partition `json:"partitions"`
	Software      []Software  `json:"software"`
	Logins        []Login     `json:"logins"`
	Users         []User      `json:"users"`
	Devices       []Device    `json:"devices"`
}

// NetEntry is one (interface × address); the key is "addr" (the seed's "address" is wrong).
type NetEntry struct {
	Addr      string `json:"addr"`
	Netmask   string `json:"netmask"`
	Broadcast string `json:"broadcast"`
	MAC       string `json:"mac"`
	Interface string `json:"interface"`
}

// Screen is a monitor.
type Screen struct {
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer"`
	Manufactured string `json:"manufactured"`
	Resolution   string `json:"resolution"`
	Size         string `json:"size"`
	Type         string `json:"type"`
	SerialNo     string `json:"serialno"`
	Technology   string `json:"technology"`
}

// Printer is a print queue.
type Printer struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	Paper  string `json:"paper"`
	DPI    string `json:"dpi"`
	URI    string `json:"uri"`
	Status string `json:"status"`
}

// Partition is a mounted volume; sizes in bytes.
type Partition struct {
	Device     string `json:"device"`
	Mountpoint string `json:"mountpoint"`
	Filesystem string `json:"filesystem"`
	Size       int64  `json:"size"`
	Free       int64  `json:"free"`
	Name       string `json:"name"`
	UUID       string `json:"uuid"`
	Encrypted  bool   `json:"encrypted"`
}

// Software is one package; version is always present (NULL makes the server fail).
type Software struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

// Login is one logon; timestamp in UTC.
type Login struct {
	GUID        *string `json:"guid"`
	DisplayName string  `json:"display_name"`
	Username    string  `json:"username"`
	Console     string  `json:"console"`
	Timestamp   string  `json:"timestamp"`
}

// User is a local account (Windows: uid = SID, gid null).
type User struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	UID         any    `json:"uid"`
	GID         any    `json:"gid"`
	Home        string `json:"home"`
	Shell       string `json:"shell"`
	Disabled    bool   `json:"disabled"`
}

// Device is a USB device.
type Device struct {
	Subsystem string `json:"subsystem"`
	Vendor    int64  `json:"vendor"`
	Product   int64  `json:"product"`
	Serial    string `json:"serial"`
	Name      string `json:"name"`
}

func dash(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "-"
	}
	return s
}

// MapInventory maps the common model to oco.agent.update data. Logins at or before since are
// left out (the server only adds logins).
func MapInventory(inv *inventory.Inventory, o *Options, since time.Time) UpdateData {
	if o == nil {
		o = NewOptions()
	}
	agentVersion := o.AgentVersion
	win := inv.OS.Family == "windows"
	d := UpdateData{
		Hostname:      inv.System.Hostname,
		OS:            inv.OS.Name,
		OSVersion:     inv.OS.Version,
		OSLicense:     "-",
		OSLanguage:    "-",
		KernelVersion: dash(inv.OS.KernelVersion),
		Architecture:  inv.OS.Arch,
		RAM:           int64(inv.Memory.TotalBytes),
		AgentVersion:  agentVersion,
		Serial:        inv.System.Serial,
		Manufacturer:  inv.System.Manufacturer,
		Model:         inv.System.Model,
		BIOSVersion:   inv.BIOS.Version,
		Uptime:        int64(inv.System.Uptime),
		SecureBoot:    "?",
		Domain:        inv.System.FQDN,
		Networks:      MapNetworks(inv.Networks),
		Screens:       []Screen{},
		Printers:      []Printer{},
		Partitions:    []Partition{},
		Software:      []Software{},
		Logins:        []Login{},
		Users:         []User{},
		Devices:       []Device{},
	}
	if d.Domain == "" {
		d.Domain = inv.System.Domain
	}
	d.BatteryLevel, d.BatteryStatus = battery(inv)
	switch inv.OS.Family {
	case "windows":
		// OCO shows Windows as "10.0.<build>"; the kernel version carries it.
		if inv.OS.KernelVersion != "" {
			d.OSVersion = inv.OS.KernelVersion
		} else if inv.OS.Build != "" {
			d.OSVersion = strings.TrimSpace(inv.OS.Version + " " + inv.OS.Build)
		}
		d.KernelVersion = "-"
		d.OSLanguage = dash(inv.OS.Language)
		switch a := strings.ToLower(inv.OS.Activation); {
		case a == "":
		case a == "1" || strings.HasPrefix(a, "licensed") || strings.Contains(a, "activated") && !strings.Contains(a, "not"):
			d.OSLicense = "1"
		default:
			d.OSLicense = "0"
		}
	case "darwin":
		d.OSLanguage = dash(inv.OS.Language)
	}
	if inv.OS.Name == "" {
		d.OS = inv.OS.FullName
	}
	var cpus, gpus []string
	for _, c := range inv.CPUs {
		if c.Model != "" {
			cpus = append(cpus, c.Model)
		}
	}
	for _, g := range inv.GPUs {
		if g.Name != "" {
			gpus = append(gpus, g.Name)
		}
	}
	d.CPU, d.GPU = strings.Join(cpus, "\n"), strings.Join(gpus, "\n")
	switch strings.ToLower(inv.BIOS.BootType) {
	case "uefi":
		d.BootType = "UEFI"
	case "legacy", "bios":
		d.BootType = "Legacy"
	}
	if sb := inv.BIOS.SecureBoot; sb != nil {
		d.SecureBoot = map[bool]string{true: "1", false: "0"}[*sb]
	}
	for _, m := range inv.Monitors {
		if m.Name == "" {
			continue
		}
		s := Screen{Name: m.Name, Manufacturer: m.Manufacturer, Type: m.ProductCode, SerialNo: m.Serial, Technology: "-"}
		if m.Year > 0 {
			s.Manufactured = strconv.Itoa(m.Year)
		}
		if m.WidthPx > 0 && m.HeightPx > 0 {
			s.Resolution = strconv.Itoa(m.WidthPx) + " x " + strconv.Itoa(m.HeightPx)
		}
		if m.WidthMM > 0 && m.HeightMM > 0 {
			s.Size = strconv.FormatFloat(float64(m.WidthMM)/10, 'f', 1, 64) + " x " + strconv.FormatFloat(float64(m.HeightMM)/10, 'f', 1, 64)
		}
		d.Screens = append(d.Screens, s)
	}
	for _, p := range inv.Printers {
		if p.Name == "" {
			continue
		}
		d.Printers = append(d.Printers, Printer{Name: p.Name, Driver: p.Driver, URI: p.Port, Status: p.Status})
	}
	for _, v := range inv.Volumes {
		if v.TotalBytes == 0 {
			continue
		}
		// OCO shows (size-free)/size as the used share. As the official agent (and df), size is
		// used + available when the collector knows the used space, so blocks reserved for
		// root are not shown as used (71 % where df says 15 %).
		size := v.TotalBytes
		if v.UsedBytes > 0 && v.UsedBytes+v.FreeBytes <= v.TotalBytes {
			size = v.UsedBytes + v.FreeBytes
		}
		p := Partition{Device: v.Device, Mountpoint: v.Mountpoint, Filesystem: v.Filesystem, Size: int64(size), Free: int64(v.FreeBytes), Name: v.Label, UUID: v.Serial}
		if v.Encrypted != nil {
			p.Encrypted = *v.Encrypted
		}
		d.Partitions = append(d.Partitions, p)
	}
	for _, s := range inv.Software {
		if s.Name == "" {
			continue
		}
		desc := s.Comment
		if desc == "" {
			desc = s.Publisher
		}
		d.Software = append(d.Software, Software{Name: s.Name, Version: s.Version, Description: desc})
	}
	for _, l := range inv.Logins {
		if l.User == "" || l.Time.IsZero() || !l.Time.After(since) {
			continue
		}
		console := l.Console
		if console == "" {
			console = l.Remote
		}
		if console == "" {
			console = "-"
		}
		d.Logins = append(d.Logins, Login{Username: l.User, Console: console, Timestamp: l.Time.UTC().Format(TimeLayout)})
	}
	for _, u := range inv.Users {
		if u.Name == "" {
			continue
		}
		if uid, err := strconv.ParseInt(u.UID, 10, 64); err == nil && (uid < o.LocalUsersMinUID || uid > o.LocalUsersMaxUID) {
			continue // a system account: the official agent leaves them out
		}
		usr := User{Username: u.Name, DisplayName: u.FullName, UID: idValue(u.UID), GID: idValue(u.GID), Home: u.Home, Shell: u.Shell, Disabled: u.Disabled}
		if win {
			usr.GID = nil
		}
		d.Users = append(d.Users, usr)
	}
	for _, u := range inv.USB {
		v, err1 := strconv.ParseInt(u.VendorID, 16, 64)
		p, err2 := strconv.ParseInt(u.ProductID, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		d.Devices = append(d.Devices, Device{Subsystem: "usb", Vendor: v, Product: p, Serial: u.Serial, Name: u.Name})
	}
	return d
}

// idValue sends numeric uids/gids as numbers, SIDs as strings, unknown as null.
func idValue(s string) any {
	if s == "" {
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

func battery(inv *inventory.Inventory) (level, status any) {
	if len(inv.Batteries) == 0 {
		return false, false
	}
	b := inv.Batteries[0]
	level = b.Charge / 100
	status = 1
	if strings.EqualFold(b.Status, "discharging") {
		status = 2
	}
	return level, status
}

// MapNetworks lists one entry per interface × address, MAC-only entries with addr "-", and
// leaves out loopback and link-local addresses and null MACs.
func MapNetworks(nets []inventory.Network) []NetEntry {
	out := []NetEntry{}
	for _, n := range nets {
		if n.Type == "loopback" {
			continue
		}
		mac := strings.ToLower(n.MAC)
		if mac == "" || mac == "00:00:00:00:00:00" {
			mac = "-"
		}
		added := false
		addrs := append(append([]inventory.IPAddr{}, n.IPv4...), n.IPv6...)
		for _, a := range addrs {
			ip := net.ParseIP(a.Address)
			if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			e := NetEntry{Addr: ip.String(), Netmask: dash(a.Netmask), Broadcast: dash(a.Broadcast), MAC: mac, Interface: dash(n.Name)}
			if a.Netmask == "" && a.Prefix > 0 {
				bits := 128
				if ip.To4() != nil {
					bits = 32
				}
				e.Netmask = net.IP(net.CIDRMask(a.Prefix, bits)).String()
			}
			out = append(out, e)
			added = true
		}
		if !added && mac != "-" {
			out = append(out, NetEntry{Addr: "-", Netmask: "-", Broadcast: "-", MAC: mac, Interface: dash(n.Name)})
		}
	}
	return out
}

// inventoryDigest hashes what matters for "the inventory changed": volatile values (uptime,
// battery, free space) and logins are left out.
func inventoryDigest(d UpdateData) string {
	d.Uptime, d.BatteryLevel, d.BatteryStatus, d.Logins = 0, nil, nil, nil
	parts := append([]Partition(nil), d.Partitions...)
	for i := range parts {
		parts[i].Free = 0
	}
	d.Partitions = parts
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// FormatInventory renders the inventory as the update data this adapter would send
// (`omniagent inventory --format oco`), with every login.
func FormatInventory(_ context.Context, inv *inventory.Inventory, id identity.Identity) ([]byte, error) {
	d := MapInventory(inv, NewOptions(), time.Time{})
	if d.Hostname == "" {
		d.Hostname = id.Hostname
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
