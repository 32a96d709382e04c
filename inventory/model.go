// Package inventory is the common inventory model: what the collectors fill and every protocol
// maps to its wire format. Units: bytes, Hz, seconds; times are UTC. Empty means unknown.
package inventory

import (
	"context"
	"time"
)

// Provider gives the current inventory; implementations cache it so several servers share one
// collection.
type Provider interface {
	Inventory(ctx context.Context) (*Inventory, error)
}

// Category names a hello or heartbeat asks for alone (see Partial); the collectors use the same.
const (
	CategorySystem    = "system" // hostname, uptime, boot time, vendor
	CategoryOS        = "os"
	CategoryNetwork   = "network"
	CategoryBatteries = "batteries"
)

// PartialProvider collects some categories alone. A hello or heartbeat that carries a few facts
// (addresses, uptime) needs no full collection, and a server that cannot be reached then
// never costs one.
type PartialProvider interface {
	// Partial returns an inventory holding at least the categories named; the others may be
	// empty. It must never be sent as the full inventory.
	Partial(ctx context.Context, categories ...string) (*Inventory, error)
}

// Partial asks p for the categories named: alone when p can collect them alone, else as part of
// its full inventory.
func Partial(ctx context.Context, p Provider, categories ...string) (*Inventory, error) {
	if pp, ok := p.(PartialProvider); ok {
		return pp.Partial(ctx, categories...)
	}
	return p.Inventory(ctx)
}

// Inventory is one collection of the machine.
type Inventory struct {
	Meta        Meta          `json:"meta"`
	System      System        `json:"system"`
	BIOS        BIOS          `json:"bios"`
	OS          OS            `json:"os"`
	CPUs        []CPU         `json:"cpus,omitempty"`
	Memory      Memory        `json:"memory"`
	GPUs        []GPU         `json:"gpus,omitempty"`
	Disks       []Disk        `json:"disks,omitempty"`
	Volumes     []Volume      `json:"volumes,omitempty"`
	Networks    []Network     `json:"networks,omitempty"`
	Monitors    []Monitor     `json:"monitors,omitempty"`
	Printers    []Printer     `json:"printers,omitempty"`
	Software    []Software    `json:"software,omitempty"`
	Users       []User        `json:"users,omitempty"`
	Groups      []Group       `json:"groups,omitempty"`
	Logins      []Login       `json:"logins,omitempty"`
	Batteries   []Battery     `json:"batteries,omitempty"`
	USB         []USBDevice   `json:"usb,omitempty"`
	Antivirus   []Antivirus   `json:"antivirus,omitempty"`
	Processes   []Process     `json:"processes,omitempty"`
	Controllers []Controller  `json:"controllers,omitempty"`
	Sessions    []UserSession `json:"sessions,omitempty"` // users logged in now

	Envs             []EnvVar          `json:"envs,omitempty"` // the agent's own environment (optional)
	Firewalls        []Firewall        `json:"firewalls,omitempty"`
	PhysicalVolumes  []PhysicalVolume  `json:"physical_volumes,omitempty"` // LVM
	VolumeGroups     []VolumeGroup     `json:"volume_groups,omitempty"`
	LogicalVolumes   []LogicalVolume   `json:"logical_volumes,omitempty"`
	Ports            []Port            `json:"ports,omitempty"` // SMBIOS type 8
	Slots            []Slot            `json:"slots,omitempty"` // SMBIOS type 9
	PowerSupplies    []PowerSupply     `json:"power_supplies,omitempty"`
	Sounds           []Sound           `json:"sounds,omitempty"`
	Inputs           []InputDevice     `json:"inputs,omitempty"`
	Modems           []Modem           `json:"modems,omitempty"`
	Cameras          []Camera          `json:"cameras,omitempty"`
	RemoteMgmt       []RemoteMgmt      `json:"remote_mgmt,omitempty"`
	VirtualMachines  []VirtualMachine  `json:"virtual_machines,omitempty"` // hosted here
	DatabaseServices []DatabaseService `json:"database_services,omitempty"`
	Licenses         []License         `json:"licenses,omitempty"`
}

// Meta describes the collection itself.
type Meta struct {
	AgentVersion string           `json:"agent_version"`
	CollectedAt  time.Time        `json:"collected_at"`
	Duration     float64          `json:"duration_seconds"`
	Categories   []CategoryResult `json:"categories,omitempty"`
}

// CategoryResult is how one collector category went.
type CategoryResult struct {
	Name     string  `json:"name"`
	Duration float64 `json:"duration_seconds"`
	Error    string  `json:"error,omitempty"`
	TimedOut bool    `json:"timed_out,omitempty"`
	Skipped  bool    `json:"skipped,omitempty"` // disabled in config or not supported on this OS
}

// System is the machine as a whole.
type System struct {
	Manufacturer string    `json:"manufacturer,omitempty"`
	Model        string    `json:"model,omitempty"`
	Serial       string    `json:"serial,omitempty"`
	UUID         string    `json:"uuid,omitempty"`        // SMBIOS UUID
	MachineUID   string    `json:"machine_uid,omitempty"` // the agent's stable identity
	SKU          string    `json:"sku,omitempty"`
	Family       string    `json:"family,omitempty"`
	ChassisType  string    `json:"chassis_type,omitempty"` // "Desktop", "Laptop", "Virtual Machine"...
	AssetTag     string    `json:"asset_tag,omitempty"`
	Virtual      Virtual   `json:"virtual"`
	Hostname     string    `json:"hostname,omitempty"` // short
	FQDN         string    `json:"fqdn,omitempty"`
	Domain       string    `json:"domain,omitempty"`    // DNS domain or AD domain
	Workgroup    string    `json:"workgroup,omitempty"` // Windows workgroup when not joined
	Uptime       float64   `json:"uptime_seconds,omitempty"`
	BootTime     time.Time `json:"boot_time,omitzero"`
	Timezone     string    `json:"timezone,omitempty"` // IANA name when known
	TZOffset     int       `json:"tz_offset_seconds"`  // seconds east of UTC
	Baseboard    Baseboard `json:"baseboard"`
}

// Virtual says whether the machine is a VM or a container.
type Virtual struct {
	Kind   string `json:"kind,omitempty"`   // "physical", "vm", "container"
	Vendor string `json:"vendor,omitempty"` // "kvm", "vmware", "hyperv", "docker", "lxc", "wsl"...
	Role   string `json:"role,omitempty"`   // "guest" or "host"
}

// Baseboard is the motherboard.
type Baseboard struct {
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Version      string `json:"version,omitempty"`
	AssetTag     string `json:"asset_tag,omitempty"`
}

// BIOS is the firmware.
type BIOS struct {
	Vendor      string    `json:"vendor,omitempty"`
	Version     string    `json:"version,omitempty"`
	ReleaseDate time.Time `json:"release_date,omitzero"`
	DateRaw     string    `json:"date_raw,omitempty"`  // as the firmware reports it
	BootType    string    `json:"boot_type,omitempty"` // "uefi" or "legacy"
	SecureBoot  *bool     `json:"secure_boot,omitempty"`
}

// OS is the operating system.
type OS struct {
	Family        string    `json:"family,omitempty"`        // "linux", "windows", "darwin"
	Name          string    `json:"name,omitempty"`          // "Debian GNU/Linux", "Microsoft Windows 11 Pro", "macOS"
	FullName      string    `json:"full_name,omitempty"`     // "Debian GNU/Linux 12 (bookworm)"
	ID            string    `json:"id,omitempty"`            // os-release ID: "debian", "ubuntu"...
	Version       string    `json:"version,omitempty"`       // "12.11", "23H2", "14.4.1": as precise as the OS says
	VersionMajor  string    `json:"version_major,omitempty"` // "12", "11", "14"
	Build         string    `json:"build,omitempty"`         // "22631.3296", "23E214"
	Codename      string    `json:"codename,omitempty"`
	ServicePack   string    `json:"service_pack,omitempty"`
	Edition       string    `json:"edition,omitempty"`
	KernelName    string    `json:"kernel_name,omitempty"`    // "linux", "Windows NT", "darwin"
	KernelVersion string    `json:"kernel_version,omitempty"` // "6.1.0-18-amd64"
	Arch          string    `json:"arch,omitempty"`           // "x86_64", "arm64" as the OS names it
	Language      string    `json:"language,omitempty"`       // "en_US"
	Activation    string    `json:"activation,omitempty"`     // Windows licence status
	ProductID     string    `json:"product_id,omitempty"`
	InstallDate   time.Time `json:"install_date,omitzero"`
	LastUser      string    `json:"last_user,omitempty"`
	LastLoginAt   time.Time `json:"last_login_at,omitzero"`
	HostID        string    `json:"host_id,omitempty"` // /etc/machine-id, MachineGuid
}

// CPU is one physical processor package.
type CPU struct {
	Vendor       string  `json:"vendor,omitempty"`
	Model        string  `json:"model,omitempty"` // marketing name
	Family       string  `json:"family,omitempty"`
	ModelNumber  string  `json:"model_number,omitempty"`
	Stepping     string  `json:"stepping,omitempty"`
	Cores        int     `json:"cores,omitempty"`
	Threads      int     `json:"threads,omitempty"`
	SpeedHz      uint64  `json:"speed_hz,omitempty"`     // current/nominal
	MaxSpeedHz   uint64  `json:"max_speed_hz,omitempty"` // maximum
	Arch         string  `json:"arch,omitempty"`
	Serial       string  `json:"serial,omitempty"`
	ID           string  `json:"id,omitempty"` // CPUID signature
	Socket       string  `json:"socket,omitempty"`
	CacheL2Bytes uint64  `json:"cache_l2_bytes,omitempty"`
	CacheL3Bytes uint64  `json:"cache_l3_bytes,omitempty"`
	Usage        float64 `json:"usage_percent,omitempty"`
}

// Memory is RAM and swap with its modules.
type Memory struct {
	TotalBytes uint64         `json:"total_bytes,omitempty"`
	FreeBytes  uint64         `json:"free_bytes,omitempty"` // available
	SwapBytes  uint64         `json:"swap_bytes,omitempty"`
	SwapFree   uint64         `json:"swap_free_bytes,omitempty"`
	Modules    []MemoryModule `json:"modules,omitempty"`
	Slots      int            `json:"slots,omitempty"`
}

// MemoryModule is one DIMM or soldered bank.
type MemoryModule struct {
	Slot         string `json:"slot,omitempty"`
	Bank         string `json:"bank,omitempty"`
	SizeBytes    uint64 `json:"size_bytes,omitempty"`
	Type         string `json:"type,omitempty"` // "DDR4"
	SpeedHz      uint64 `json:"speed_hz,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	PartNumber   string `json:"part_number,omitempty"`
	FormFactor   string `json:"form_factor,omitempty"`
}

// GPU is one video controller.
type GPU struct {
	Name        string `json:"name,omitempty"`
	Vendor      string `json:"vendor,omitempty"`
	MemoryBytes uint64 `json:"memory_bytes,omitempty"`
	Driver      string `json:"driver,omitempty"`
	DriverVer   string `json:"driver_version,omitempty"`
	PCISlot     string `json:"pci_slot,omitempty"`
	PCIID       string `json:"pci_id,omitempty"` // "8086:9a49"
	Resolution  string `json:"resolution,omitempty"`
}

// Disk is one physical (or virtual) block device.
type Disk struct {
	Name         string `json:"name,omitempty"` // "sda", "nvme0n1", "\\.\PHYSICALDRIVE0"
	Model        string `json:"model,omitempty"`
	Vendor       string `json:"vendor,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Firmware     string `json:"firmware,omitempty"`
	SizeBytes    uint64 `json:"size_bytes,omitempty"`
	Type         string `json:"type,omitempty"`      // "ssd", "hdd", "nvme", "optical", "virtual"
	Interface    string `json:"interface,omitempty"` // "SATA", "NVMe", "USB", "SCSI", "virtio"
	Removable    bool   `json:"removable,omitempty"`
	WWN          string `json:"wwn,omitempty"`
	SmartHealthy *bool  `json:"smart_healthy,omitempty"`
}

// Volume is one mounted filesystem or partition.
type Volume struct {
	Device     string `json:"device,omitempty"`
	Mountpoint string `json:"mountpoint,omitempty"` // "C:" on Windows
	Filesystem string `json:"filesystem,omitempty"`
	TotalBytes uint64 `json:"total_bytes,omitempty"`
	FreeBytes  uint64 `json:"free_bytes,omitempty"` // available to ordinary users (df's Avail)
	// UsedBytes is df's Used (total minus all free blocks, reserved ones included); 0 when
	// the platform does not tell.
	UsedBytes  uint64 `json:"used_bytes,omitempty"`
	Label      string `json:"label,omitempty"`
	Serial     string `json:"serial,omitempty"` // filesystem UUID / volume serial
	Disk       string `json:"disk,omitempty"`   // parent disk name
	Encryption string `json:"encryption,omitempty"`
	Encrypted  *bool  `json:"encrypted,omitempty"`
	ReadOnly   bool   `json:"read_only,omitempty"`
	Network    bool   `json:"network,omitempty"` // NFS, SMB...
	Options    string `json:"options,omitempty"`
}

// Network is one network interface.
type Network struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	MAC         string   `json:"mac,omitempty"` // lower case, colon form
	IPv4        []IPAddr `json:"ipv4,omitempty"`
	IPv6        []IPAddr `json:"ipv6,omitempty"`
	Gateway     string   `json:"gateway,omitempty"`
	Gateway6    string   `json:"gateway6,omitempty"`
	DNS         []string `json:"dns,omitempty"`
	DHCP        bool     `json:"dhcp,omitempty"`
	DHCPServer  string   `json:"dhcp_server,omitempty"`
	SpeedBps    uint64   `json:"speed_bps,omitempty"`
	Type        string   `json:"type,omitempty"` // "ethernet", "wifi", "loopback", "bridge", "tunnel", "virtual"
	Up          bool     `json:"up"`
	Virtual     bool     `json:"virtual,omitempty"`
	MTU         int      `json:"mtu,omitempty"`
	Driver      string   `json:"driver,omitempty"`
	PCIID       string   `json:"pci_id,omitempty"`
}

// IPAddr is an address with its prefix.
type IPAddr struct {
	Address   string `json:"address"`
	Prefix    int    `json:"prefix"`
	Netmask   string `json:"netmask,omitempty"` // dotted form for IPv4
	Subnet    string `json:"subnet,omitempty"`  // network address
	Broadcast string `json:"broadcast,omitempty"`
}

// Monitor is a display read from its EDID.
type Monitor struct {
	Name          string  `json:"name,omitempty"`
	Manufacturer  string  `json:"manufacturer,omitempty"` // full name when known, else the PNP id
	VendorID      string  `json:"vendor_id,omitempty"`    // 3-letter PNP id
	ProductCode   string  `json:"product_code,omitempty"`
	Serial        string  `json:"serial,omitempty"`
	Year          int     `json:"year,omitempty"` // of manufacture
	Week          int     `json:"week,omitempty"`
	WidthPx       int     `json:"width_px,omitempty"` // native resolution
	HeightPx      int     `json:"height_px,omitempty"`
	WidthMM       int     `json:"width_mm,omitempty"`
	HeightMM      int     `json:"height_mm,omitempty"`
	DiagonalInch  float64 `json:"diagonal_inch,omitempty"`
	Port          string  `json:"port,omitempty"` // "card0-HDMI-A-1"
	EDIDBase64    string  `json:"edid,omitempty"`
	EDIDVersion   string  `json:"edid_version,omitempty"`
	DigitalInput  bool    `json:"digital,omitempty"`
	AltSerialCode string  `json:"alt_serial,omitempty"`
}

// Printer is a print queue.
type Printer struct {
	Name        string `json:"name"`
	Driver      string `json:"driver,omitempty"`
	Port        string `json:"port,omitempty"` // device URI or port
	Status      string `json:"status,omitempty"`
	Default     bool   `json:"default,omitempty"`
	Shared      bool   `json:"shared,omitempty"`
	Network     bool   `json:"network,omitempty"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
}

// Software is one installed package or application.
type Software struct {
	Name        string    `json:"name"`
	Version     string    `json:"version,omitempty"`
	Publisher   string    `json:"publisher,omitempty"`
	InstallDate time.Time `json:"install_date,omitzero"`
	SizeBytes   uint64    `json:"size_bytes,omitempty"`
	Arch        string    `json:"arch,omitempty"`
	Source      string    `json:"source"` // dpkg, rpm, apk, pacman, snap, flatpak, registry, msix, app, pkgutil
	Comment     string    `json:"comment,omitempty"`
	URL         string    `json:"url,omitempty"`
	GUID        string    `json:"guid,omitempty"` // Windows product code
	Uninstall   string    `json:"uninstall,omitempty"`
	InstallPath string    `json:"install_path,omitempty"`
	User        string    `json:"user,omitempty"` // per-user installs
	System      bool      `json:"system_component,omitempty"`
	Category    string    `json:"category,omitempty"`   // dpkg section
	MultiArch   string    `json:"multi_arch,omitempty"` // dpkg Multi-Arch: same, foreign, allowed
}

// User is a local account.
type User struct {
	Name     string   `json:"name"`
	UID      string   `json:"uid,omitempty"` // uid or SID
	GID      string   `json:"gid,omitempty"`
	FullName string   `json:"full_name,omitempty"`
	Home     string   `json:"home,omitempty"`
	Shell    string   `json:"shell,omitempty"`
	Disabled bool     `json:"disabled,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	System   bool     `json:"system,omitempty"` // service account (uid < 1000...)
}

// Group is a local group.
type Group struct {
	Name    string   `json:"name"`
	GID     string   `json:"gid,omitempty"`
	Members []string `json:"members,omitempty"`
}

// Login is one logon event (utmp/wtmp, utmpx, Windows logon events).
type Login struct {
	User     string    `json:"user"`
	Console  string    `json:"console,omitempty"` // tty or session type
	Remote   string    `json:"remote,omitempty"`  // remote host/address
	Time     time.Time `json:"time"`
	Duration float64   `json:"duration_seconds,omitempty"`
}

// UserSession is a user logged in now.
type UserSession struct {
	User    string    `json:"user"`
	Console string    `json:"console,omitempty"`
	Remote  string    `json:"remote,omitempty"`
	Since   time.Time `json:"since,omitzero"`
}

// Battery is one battery.
type Battery struct {
	Name           string    `json:"name,omitempty"`
	Manufacturer   string    `json:"manufacturer,omitempty"`
	Model          string    `json:"model,omitempty"`
	Serial         string    `json:"serial,omitempty"`
	Chemistry      string    `json:"chemistry,omitempty"`
	DesignCapacity uint64    `json:"design_capacity_mwh,omitempty"`
	FullCapacity   uint64    `json:"full_capacity_mwh,omitempty"`
	DesignVoltage  uint64    `json:"design_voltage_mv,omitempty"`
	Charge         float64   `json:"charge_percent,omitempty"`
	Status         string    `json:"status,omitempty"`
	Date           time.Time `json:"manufacture_date,omitzero"`
}

// USBDevice is one attached USB device.
type USBDevice struct {
	Name         string `json:"name,omitempty"`
	VendorID     string `json:"vendor_id,omitempty"` // hex, 4 digits
	ProductID    string `json:"product_id,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Class        string `json:"class,omitempty"`
	Bus          string `json:"bus,omitempty"`
}

// Antivirus is a security product (Windows Security Center and equivalents).
type Antivirus struct {
	Name       string `json:"name"`
	Company    string `json:"company,omitempty"`
	Version    string `json:"version,omitempty"`
	Enabled    bool   `json:"enabled"`
	UpToDate   bool   `json:"up_to_date"`
	GUID       string `json:"guid,omitempty"`
	Signatures string `json:"signatures_version,omitempty"`
}

// Process is one running process (optional category).
type Process struct {
	PID        int32     `json:"pid"`
	PPID       int32     `json:"ppid,omitempty"`
	User       string    `json:"user,omitempty"`
	Name       string    `json:"name,omitempty"`
	Command    string    `json:"command,omitempty"`
	CPUPercent float64   `json:"cpu_percent,omitempty"`
	MemBytes   uint64    `json:"mem_bytes,omitempty"` // resident
	VirtBytes  uint64    `json:"virt_bytes,omitempty"`
	MemPercent float64   `json:"mem_percent,omitempty"` // resident / physical memory
	Started    time.Time `json:"started,omitzero"`
	TTY        string    `json:"tty,omitempty"`
}

// Controller is a PCI (or other bus) controller.
type Controller struct {
	Name         string `json:"name,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Type         string `json:"type,omitempty"` // PCI class name
	PCIID        string `json:"pci_id,omitempty"`
	PCISlot      string `json:"pci_slot,omitempty"`
	Driver       string `json:"driver,omitempty"`
	SubsystemID  string `json:"subsystem_id,omitempty"`
	Class        string `json:"class,omitempty"`    // PCI class and subclass, hex: "0600"
	Revision     string `json:"revision,omitempty"` // hex: "08"
}

// EnvVar is one environment variable of the agent process.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Firewall is the state of one firewall backend or profile (state only, never rules).
type Firewall struct {
	Profile string `json:"profile,omitempty"` // Windows: "DomainProfile"...; Linux: the backend
	Status  string `json:"status"`            // "on" or "off"
	Backend string `json:"backend,omitempty"` // "nftables", "iptables", "ufw", "firewalld", "windows", "alf"
}

// PhysicalVolume is an LVM physical volume. Sizes in bytes.
type PhysicalVolume struct {
	Device      string `json:"device"`
	Format      string `json:"format,omitempty"` // "lvm2"
	UUID        string `json:"uuid"`
	VGName      string `json:"vg_name,omitempty"`
	VGUUID      string `json:"vg_uuid,omitempty"`
	SizeBytes   uint64 `json:"size_bytes"`
	FreeBytes   uint64 `json:"free_bytes"`
	PECount     uint64 `json:"pe_count"`
	PESizeBytes uint64 `json:"pe_size_bytes,omitempty"`
	Attr        string `json:"attr,omitempty"`
}

// VolumeGroup is an LVM volume group.
type VolumeGroup struct {
	Name        string `json:"name"`
	UUID        string `json:"uuid"`
	SizeBytes   uint64 `json:"size_bytes"`
	FreeBytes   uint64 `json:"free_bytes"`
	PVCount     int    `json:"pv_count"`
	LVCount     int    `json:"lv_count"`
	ExtentBytes uint64 `json:"extent_bytes"`
	Attr        string `json:"attr,omitempty"`
}

// LogicalVolume is an LVM logical volume.
type LogicalVolume struct {
	Name      string `json:"name"`
	UUID      string `json:"uuid"`
	VGName    string `json:"vg_name,omitempty"`
	VGUUID    string `json:"vg_uuid,omitempty"`
	SizeBytes uint64 `json:"size_bytes"`
	Segments  int    `json:"segments,omitempty"`
	Attr      string `json:"attr,omitempty"`
	Active    bool   `json:"active,omitempty"` // mapped by device-mapper now
}

// Port is an external connector (SMBIOS type 8).
type Port struct {
	Name        string `json:"name,omitempty"`        // internal or external designator: "JUSB1"
	Type        string `json:"type"`                  // "USB", "Network Port"...
	Connector   string `json:"connector,omitempty"`   // "DB-15 female"
	Description string `json:"description,omitempty"` // the internal designator when both exist
}

// Slot is a system expansion slot (SMBIOS type 9).
type Slot struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"` // slot type: "x16 PCI Express 3"
	Status      string `json:"status,omitempty"`      // "free" or "used"
}

// PowerSupply is a system power supply (SMBIOS type 39).
type PowerSupply struct {
	Name           string `json:"name,omitempty"`
	Location       string `json:"location,omitempty"`
	Manufacturer   string `json:"manufacturer,omitempty"`
	Serial         string `json:"serial,omitempty"`
	PartNumber     string `json:"part_number,omitempty"`
	Model          string `json:"model,omitempty"`
	MaxWatts       int    `json:"max_watts,omitempty"`
	HotReplaceable bool   `json:"hot_replaceable,omitempty"`
	Plugged        bool   `json:"plugged,omitempty"`
	Status         string `json:"status,omitempty"`
}

// Sound is an audio device.
type Sound struct {
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Description  string `json:"description,omitempty"`
}

// InputDevice is a keyboard, mouse or other input device.
type InputDevice struct {
	Name         string `json:"name"`
	Type         string `json:"type,omitempty"` // "keyboard", "pointing", "other"
	Manufacturer string `json:"manufacturer,omitempty"`
	Interface    string `json:"interface,omitempty"` // "USB", "PS/2", "Bluetooth"...
	Layout       string `json:"layout,omitempty"`
	PointingType string `json:"pointing_type,omitempty"`
}

// Modem is a modem (POTS or mobile broadband).
type Modem struct {
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	Type         string `json:"type,omitempty"`
	Model        string `json:"model,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Serial       string `json:"serial,omitempty"`
	IMEI         string `json:"imei,omitempty"`
}

// Camera is a video capture device.
type Camera struct {
	Name         string `json:"name"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
}

// RemoteMgmt is a remote-management tool installed here and the id it is reached by.
type RemoteMgmt struct {
	Type    string `json:"type"` // "teamviewer", "anydesk", "rustdesk", "meshcentral", "litemanager", "supremo"
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

// VirtualMachine is a VM or container hosted by this machine.
type VirtualMachine struct {
	Name        string `json:"name"`
	UUID        string `json:"uuid,omitempty"`
	Status      string `json:"status,omitempty"`    // GLPI's enum: running, paused, off...
	Subsystem   string `json:"subsystem,omitempty"` // "kvm", "Docker", "VirtualBox"...
	Type        string `json:"type,omitempty"`      // "libvirt", "docker", "podman", "lxc", "nspawn", "virtualbox", "hyperv", "wsl"
	VCPUs       int    `json:"vcpus,omitempty"`
	MemoryBytes uint64 `json:"memory_bytes,omitempty"`
	Image       string `json:"image,omitempty"`
	MAC         string `json:"mac,omitempty"`
	Owner       string `json:"owner,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

// DatabaseService is a database engine installed here (found without credentials).
type DatabaseService struct {
	Type         string `json:"type"` // "mysql", "mariadb", "postgresql", "mongodb", "redis", "mssql", "oracle"
	Name         string `json:"name"`
	Version      string `json:"version"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Port         int    `json:"port,omitempty"`
	Path         string `json:"path,omitempty"`
	Running      bool   `json:"running"`
}

// License is a product licence key (Windows, Office).
type License struct {
	Name       string `json:"name"`
	FullName   string `json:"full_name,omitempty"`
	Key        string `json:"key,omitempty"`
	ProductID  string `json:"product_id,omitempty"`
	Components string `json:"components,omitempty"`
	Trial      bool   `json:"trial,omitempty"`
}
