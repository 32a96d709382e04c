package collectors

// categories lists this OS's collectors, one line each. First marks the longest (a thousand
// packages, a hundred processes, the PCI bus that gpu reads for the others).
func categories() []Category {
	return []Category{
		{Name: "system", Collect: collectSystem},
		{Name: "os", Collect: collectOSLinux},
		{Name: "cpu", Collect: collectCPU},
		{Name: "memory", Collect: collectMemory},
		{Name: "gpu", Collect: collectGPU, First: true},
		{Name: "controllers", Collect: collectControllers},
		{Name: "disks", Collect: collectDisks, First: true},
		{Name: "volumes", Collect: collectVolumes},
		{Name: "network", Collect: collectNetwork, First: true},
		{Name: "monitors", Collect: collectMonitors},
		{Name: "printers", Collect: collectPrinters},
		{Name: "software", Collect: collectSoftware, First: true},
		{Name: "users", Collect: collectUsers},
		{Name: "logins", Collect: collectLogins},
		{Name: "batteries", Collect: collectBatteries},
		{Name: "usb", Collect: collectUSB},
		{Name: "antivirus", Collect: collectAntivirus},
		{Name: "processes", Collect: collectProcessesLinux, First: true},
		{Name: "envs", Collect: collectEnvs},
		{Name: "firewalls", Collect: collectFirewalls},
		{Name: "lvm", Collect: collectLVM},
		{Name: "ports", Collect: collectPorts},
		{Name: "slots", Collect: collectSlots},
		{Name: "powersupplies", Collect: collectPowerSupplies},
		{Name: "sounds", Collect: collectSounds},
		{Name: "inputs", Collect: collectInputs},
		{Name: "modems", Collect: collectModems},
		{Name: "cameras", Collect: collectCameras},
		{Name: "remote_mgmt", Collect: collectRemoteMgmt},
		{Name: "virtualmachines", Collect: collectVirtualMachines},
		{Name: "databases", Collect: collectDatabases, First: true},
	}
}
