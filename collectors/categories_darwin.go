package collectors

import (
	"context"

	"github.com/omniagent/omniagent/inventory"
)

// macOS sources. One `system_profiler -json` run (hardware, software, displays, memory, storage,
// network, power, USB, applications, printers) is shared by the categories marked (sp); it has
// its own two-minute deadline and its result is reused for ten minutes, so a first run slower
// than a category's deadline still serves the next collection.
//   - system: sysctl hw.model and kern.boottime, VM detection (hw.model, kern.hv_vmm_present),
//     /etc/localtime; serial, UUID, boot ROM (sp).
//   - os: SystemVersion.plist, kern.osrelease, AppleLocale, loginwindow's lastUserName, the
//     .AppleSetupDone date as install date.
//   - cpu: sysctl machdep.cpu.* and hw.*. memory: hw.memsize, gopsutil, modules (sp).
//   - gpu, disks, volumes (+ FileVault via `fdesetup isactive`, best effort), network (sp, with
//     MTU and link state from the interfaces), batteries, usb (sp).
//   - monitors: EDID from ioreg (IODisplayConnect on Intel, AppleCLCD2 on Apple silicon), plus the
//     displays only system_profiler knows (built-in panels without EDID).
//   - printers: /etc/cups/printers.conf, else (sp).
//   - software: applications (sp) and package receipts read from /var/db/receipts (binary
//     plists; what `pkgutil --pkgs` lists, without running it).
//   - users: /var/db/dslocal records (binary plists, root-only) rather than dscl: no process,
//     the same attributes; `dscl -plist . -readall` (bounded) when they are unreadable.
//   - logins: /var/run/utmpx, i.e. current sessions only (macOS keeps no wtmp).
//   - sounds, cameras (sp: SPAudioDataType, SPCameraDataType), inputs (USB keyboards and
//     pointing devices, sp). firewalls: com.apple.alf.plist. remote_mgmt: TeamViewer's plist,
//     AnyDesk's and RustDesk's config files. databases: Homebrew kegs and their pid files.
//     virtualmachines: VirtualBox registries and UTM bundles of each user.

// categories lists this OS's collectors, one line each. The categories that read
// system_profiler share one run of it (sp), made on first use and reused for a while.
func categories() []Category {
	// The categories reading system_profiler wait for its whole run rather than the default
	// per-category deadline, so the first collection is complete.
	spTimeout := systemProfilerTimeout
	sp := newSysProfiler(runSystemProfiler)
	withSP := func(f func(context.Context, *inventory.Inventory, *sysProfiler) error) func(context.Context, *inventory.Inventory) error {
		return func(ctx context.Context, inv *inventory.Inventory) error { return f(ctx, inv, sp) }
	}
	return []Category{
		{Name: "system", Collect: withSP(macCollectSystem), MinTimeout: spTimeout},
		{Name: "os", Collect: macCollectOS},
		{Name: "cpu", Collect: macCollectCPU},
		{Name: "memory", Collect: withSP(macCollectMemory), MinTimeout: spTimeout},
		{Name: "gpu", Collect: withSP(macCollectGPU), MinTimeout: spTimeout},
		{Name: "disks", Collect: withSP(macCollectDisks), MinTimeout: spTimeout},
		{Name: "volumes", Collect: withSP(macCollectVolumes), MinTimeout: spTimeout},
		{Name: "network", Collect: withSP(macCollectNetwork), MinTimeout: spTimeout},
		{Name: "monitors", Collect: withSP(macCollectMonitors), MinTimeout: spTimeout},
		{Name: "printers", Collect: withSP(macCollectPrinters), MinTimeout: spTimeout},
		{Name: "software", Collect: withSP(macCollectSoftware), MinTimeout: spTimeout},
		{Name: "users", Collect: macCollectUsers},
		{Name: "logins", Collect: macCollectLogins},
		{Name: "batteries", Collect: withSP(macCollectBatteries), MinTimeout: spTimeout},
		{Name: "usb", Collect: withSP(macCollectUSB), MinTimeout: spTimeout},
		{Name: "processes", Collect: collectProcessesGopsutil},
		{Name: "envs", Collect: collectEnvs},
		{Name: "firewalls", Collect: macCollectFirewalls},
		{Name: "remote_mgmt", Collect: macCollectRemoteMgmt},
		{Name: "databases", Collect: macCollectDatabases},
		{Name: "virtualmachines", Collect: macCollectVirtualMachines},
		{Name: "sounds", Collect: withSP(macCollectSounds), MinTimeout: spTimeout},
		{Name: "inputs", Collect: withSP(macCollectInputs), MinTimeout: spTimeout},
		{Name: "cameras", Collect: withSP(macCollectCameras), MinTimeout: spTimeout},
	}
}
