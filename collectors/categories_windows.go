package collectors

// Windows sources, all without cgo and, except where noted, without WMI:
//   - system: raw SMBIOS (GetSystemFirmwareTable 'RSMB') through the shared SMBIOS parser, with
//     HKLM\HARDWARE\DESCRIPTION\System\BIOS as fallback; domain/workgroup (NetGetJoinInformation),
//     uptime, time zone (registry, common names mapped to IANA), firmware type (GetFirmwareType),
//     Secure Boot (registry), VM detection from the SMBIOS strings.
//   - os: CurrentVersion registry key (name fixed up for Windows 11, DisplayVersion, build.UBR,
//     edition, install date, product id), UI language, licence state (SLIsGenuineLocal, best
//     effort), last logged-on user (LogonUI), MachineGuid.
//   - cpu, memory: gopsutil (no WMI in v4.26) plus CentralProcessor\0 for family/model/stepping.
//   - gpu: display class driver keys. controllers: Enum\PCI (attached devices).
//     disks: IOCTL_STORAGE_QUERY_PROPERTY on \\.\PhysicalDriveN.
//   - volumes: GetLogicalDrives/GetVolumeInformation/GetDiskFreeSpaceEx, each bounded so a dead
//     network drive is skipped; BitLocker via WMI Win32_EncryptableVolume (best effort).
//   - network: GetAdaptersAddresses. monitors: EDID under Enum\DISPLAY (attached ones only).
//   - printers: spooler registry keys. usb: Enum\USB (attached devices only).
//   - software: Uninstall keys, 64-bit and 32-bit views and the loaded per-user hives (users not
//     logged on have no loaded hive and are not read), and MSIX/Store packages from the Appx
//     package store (best effort: an undocumented servicing store).
//   - users: NetUserEnum and local groups (NetLocalGroupEnum/GetMembers), ProfileList fallback.
//   - logins: interactive logons from the Security event log (4624: console, RDP, cached; needs
//     admin rights) through the eventlog package, and current sessions (WTS).
//   - antivirus: Security Center over WMI (client Windows) plus Defender's registry keys.
//   - batteries: WMI Win32_Battery and root\WMI battery classes (best effort).
//   - firewalls: FirewallPolicy profiles (+ group policy). licenses: DigitalProductId of Windows
//     and Office, decoded. remote_mgmt: TeamViewer/MeshCentral/LiteManager/SupRemo keys and the
//     AnyDesk/RustDesk config files. sounds, inputs, modems, cameras: attached devices of their
//     setup classes in Enum. ports, slots, powersupplies: SMBIOS types 8/9/39. databases:
//     services by executable, versions from SQL Server setup keys or uninstall entries, state
//     from the service manager. virtualmachines: Hyper-V (WMI), WSL (user hives), VirtualBox.
//     hotfixes: Win32_QuickFixEngineering as software entries.
// WMI goes through wmiQuery: one query at a time in the process, bounded by the caller's context.

// categories lists this OS's collectors, one line each.
func categories() []Category {
	return []Category{
		{Name: "system", Collect: winCollectSystem},
		{Name: "os", Collect: winCollectOS},
		{Name: "cpu", Collect: winCollectCPU},
		{Name: "memory", Collect: winCollectMemory},
		{Name: "gpu", Collect: winCollectGPU},
		{Name: "controllers", Collect: winCollectControllers},
		{Name: "disks", Collect: winCollectDisks},
		{Name: "volumes", Collect: winCollectVolumes},
		{Name: "network", Collect: winCollectNetwork},
		{Name: "monitors", Collect: winCollectMonitors},
		{Name: "printers", Collect: winCollectPrinters},
		{Name: "software", Collect: winCollectSoftware},
		{Name: "users", Collect: winCollectUsers},
		{Name: "logins", Collect: winCollectLogins},
		{Name: "antivirus", Collect: winCollectAntivirus},
		{Name: "batteries", Collect: winCollectBatteries},
		{Name: "usb", Collect: winCollectUSB},
		{Name: "processes", Collect: collectProcessesGopsutil},
		{Name: "envs", Collect: collectEnvs},
		{Name: "firewalls", Collect: winCollectFirewalls},
		{Name: "ports", Collect: winCollectPorts},
		{Name: "slots", Collect: winCollectSlots},
		{Name: "powersupplies", Collect: winCollectPowerSupplies},
		{Name: "sounds", Collect: winCollectSounds},
		{Name: "inputs", Collect: winCollectInputs},
		{Name: "modems", Collect: winCollectModems},
		{Name: "cameras", Collect: winCollectCameras},
		{Name: "remote_mgmt", Collect: winCollectRemoteMgmt},
		{Name: "virtualmachines", Collect: winCollectVirtualMachines},
		{Name: "databases", Collect: winCollectDatabases},
		{Name: "licenses", Collect: winCollectLicenses},
		{Name: "hotfixes", Collect: winCollectHotfixes},
	}
}
