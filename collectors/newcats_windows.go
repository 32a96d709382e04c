package collectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/limitread"
)

// Windows collectors for the issue-15 sections: registry first, WMI only for hotfixes and
// Hyper-V (behind wmiQuery's gate and the category deadline).

func winCollectFirewalls(_ context.Context, inv *inventory.Inventory) error {
	policy, err := hklm(`SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy`)
	if err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	defer policy.Close()
	gpo, _ := hklm(`SOFTWARE\Policies\Microsoft\WindowsFirewall`)
	if gpo != nil {
		defer gpo.Close()
	}
	inv.Firewalls = firewallsFromRegistry(policy, gpo)
	return nil
}

func winCollectLicenses(_ context.Context, inv *inventory.Inventory) error {
	cv, err := hklm(`SOFTWARE\Microsoft\Windows NT\CurrentVersion`)
	if err != nil {
		return fmt.Errorf("licences: %w", err)
	}
	defer cv.Close()
	var offices []regKey
	for _, wow := range []uint32{registry.WOW64_64KEY, registry.WOW64_32KEY} {
		if k, err := openWinKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Office`, wow); err == nil {
			defer k.Close()
			offices = append(offices, k)
		}
	}
	inv.Licenses = windowsLicenses(cv, offices)
	return nil
}

func winCollectRemoteMgmt(_ context.Context, inv *inventory.Inventory) error {
	sys, _ := hklm(`SYSTEM`)
	if sys != nil {
		defer sys.Close()
	}
	for _, wow := range []uint32{registry.WOW64_64KEY, registry.WOW64_32KEY} {
		sw, err := openWinKey(registry.LOCAL_MACHINE, `SOFTWARE`, wow)
		if err != nil {
			continue
		}
		inv.RemoteMgmt = append(inv.RemoteMgmt, remoteMgmtFromRegistry(sw, sys)...)
		sw.Close()
		sys = nil // the SYSTEM hive has no 32-bit view: read it once
	}
	pd := os.Getenv("ProgramData")
	windir := os.Getenv("SystemRoot")
	inv.RemoteMgmt = append(inv.RemoteMgmt, readRemoteMgmt("", []remoteConfig{
		{Type: "anydesk", Glob: filepath.Join(pd, "AnyDesk", "system.conf"), Parse: ParseAnyDeskConf},
		{Type: "anydesk", Glob: filepath.Join(pd, "AnyDesk", "ad_*", "system.conf"), Parse: ParseAnyDeskConf},
		{Type: "rustdesk", Glob: filepath.Join(windir, `ServiceProfiles\LocalService\AppData\Roaming\RustDesk\config\RustDesk.toml`), Parse: ParseRustDeskToml},
	})...)
	inv.RemoteMgmt = dedupRemote(inv.RemoteMgmt)
	return nil
}

func dedupRemote(l []inventory.RemoteMgmt) []inventory.RemoteMgmt {
	seen := map[string]bool{}
	var out []inventory.RemoteMgmt
	for _, r := range l {
		if !seen[r.Type+r.ID] {
			seen[r.Type+r.ID] = true
			out = append(out, r)
		}
	}
	return out
}

// winEnumPeripherals reads the Enum tree once per category that needs it.
func winEnumPeripherals() (s []inventory.Sound, i []inventory.InputDevice, m []inventory.Modem, c []inventory.Camera, err error) {
	enum, err := hklm(`SYSTEM\CurrentControlSet\Enum`)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("device enumeration: %w", err)
	}
	defer enum.Close()
	s, i, m, c = peripheralsFromEnum(enum)
	return s, i, m, c, nil
}

func winCollectSounds(_ context.Context, inv *inventory.Inventory) (err error) {
	inv.Sounds, _, _, _, err = winEnumPeripherals()
	return err
}

func winCollectInputs(_ context.Context, inv *inventory.Inventory) (err error) {
	_, inv.Inputs, _, _, err = winEnumPeripherals()
	return err
}

func winCollectModems(_ context.Context, inv *inventory.Inventory) (err error) {
	_, _, inv.Modems, _, err = winEnumPeripherals()
	return err
}

func winCollectCameras(_ context.Context, inv *inventory.Inventory) (err error) {
	_, _, _, inv.Cameras, err = winEnumPeripherals()
	return err
}

type quickFix struct {
	HotFixID    string
	Description string
	InstalledOn string
}

// winCollectHotfixes adds the installed updates (Win32_QuickFixEngineering) as software.
func winCollectHotfixes(ctx context.Context, inv *inventory.Inventory) error {
	rows, err := wmiQuery[quickFix](ctx, `root\CIMV2`, "SELECT HotFixID, Description, InstalledOn FROM Win32_QuickFixEngineering")
	if err != nil {
		return fmt.Errorf("hotfixes: %w", err)
	}
	for _, r := range rows {
		if s, ok := hotfixSoftware(r.HotFixID, r.Description, r.InstalledOn); ok {
			inv.Software = append(inv.Software, s)
		}
	}
	return nil
}

type hyperVSystem struct {
	ElementName  string
	Name         string
	EnabledState uint16
}

// winCollectVirtualMachines lists Hyper-V VMs (WMI root\virtualization\v2, present only with
// the role), the WSL distributions of each loaded user hive, and VirtualBox machines of each
// profile.
func winCollectVirtualMachines(ctx context.Context, inv *inventory.Inventory) error {
	if rows, err := wmiQuery[hyperVSystem](ctx, `root\virtualization\v2`,
		"SELECT ElementName, Name, EnabledState FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'"); err == nil {
		for _, r := range rows {
			st := map[uint16]string{2: "running", 3: "off", 6: "off", 9: "paused", 32768: "paused", 32769: "paused", 32776: "paused"}[r.EnabledState]
			inv.VirtualMachines = append(inv.VirtualMachines, inventory.VirtualMachine{Name: r.ElementName, UUID: r.Name, Status: st, Subsystem: "Hyper-V", Type: "hyperv"})
		}
	}
	names := profileNames()
	if users, err := openWinKey(registry.USERS, "", 0); err == nil {
		sids, _ := users.SubKeys()
		for _, sid := range sids {
			if k, err := users.Open(sid + `\Software\Microsoft\Windows\CurrentVersion\Lxss`); err == nil {
				inv.VirtualMachines = append(inv.VirtualMachines, wslFromRegistry(k, names[sid])...)
				k.Close()
			}
		}
		users.Close()
	}
	drive := os.Getenv("SystemDrive")
	regs, _ := filepath.Glob(filepath.Join(drive+`\`, "Users", "*", ".VirtualBox", "VirtualBox.xml"))
	for _, reg := range regs {
		b, err := limitread.File(reg, 4<<20)
		if err != nil {
			continue
		}
		owner := filepath.Base(filepath.Dir(filepath.Dir(reg)))
		for _, f := range ParseVirtualBoxRegistry(b, filepath.Dir(reg)) {
			if mb, err := limitread.File(f, 4<<20); err == nil {
				if vm, err := ParseVirtualBoxMachine(mb); err == nil && vm.Name != "" {
					vm.Owner = owner
					inv.VirtualMachines = append(inv.VirtualMachines, vm)
				}
			}
		}
	}
	return ctx.Err()
}

// winCollectDatabases finds database services and asks the service manager whether they run.
func winCollectDatabases(_ context.Context, inv *inventory.Inventory) error {
	services, err := hklm(`SYSTEM\CurrentControlSet\Services`)
	if err != nil {
		return fmt.Errorf("database services: %w", err)
	}
	defer services.Close()
	software, _ := hklm(`SOFTWARE`)
	if software != nil {
		defer software.Close()
	}
	found := dbServicesFromRegistry(services, software)
	if len(found) == 0 {
		return nil
	}
	m, merr := mgr.Connect()
	for _, d := range found {
		if merr == nil {
			if s, err := m.OpenService(d.Service); err == nil {
				if st, err := s.Query(); err == nil {
					d.Running = st.State == svc.Running
				}
				s.Close()
			}
		}
		inv.DatabaseServices = append(inv.DatabaseServices, d.DatabaseService)
	}
	if merr == nil {
		m.Disconnect()
	}
	return nil
}

func winSMBIOS() (*SMBIOS, error) {
	raw, err := rawSMBIOS()
	if err != nil {
		return nil, fmt.Errorf("smbios: %w", err)
	}
	return ParseRawSMBIOSData(raw)
}

func winCollectPorts(_ context.Context, inv *inventory.Inventory) error {
	s, err := winSMBIOS()
	if s != nil {
		inv.Ports = s.Ports()
	}
	return err
}

func winCollectSlots(_ context.Context, inv *inventory.Inventory) error {
	s, err := winSMBIOS()
	if s != nil {
		inv.Slots = s.Slots()
	}
	return err
}

func winCollectPowerSupplies(_ context.Context, inv *inventory.Inventory) error {
	s, err := winSMBIOS()
	if s != nil {
		inv.PowerSupplies = s.PowerSupplies()
	}
	return err
}
