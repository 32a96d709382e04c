package collectors

import (
	"context"
	"os"
	"syscall"

	"github.com/omniagent/omniagent/inventory"
)

func macCollectFirewalls(_ context.Context, inv *inventory.Inventory) error {
	b, err := os.ReadFile("/Library/Preferences/com.apple.alf.plist")
	if err != nil {
		return nil // macOS 15 moved the state out of this file: nothing to report
	}
	if f, ok := alfFirewall(b); ok {
		inv.Firewalls = append(inv.Firewalls, f)
	}
	return nil
}

func macCollectRemoteMgmt(_ context.Context, inv *inventory.Inventory) error {
	inv.RemoteMgmt = readRemoteMgmt("/", append([]remoteConfig{
		{Type: "teamviewer", Glob: "Library/Preferences/com.teamviewer.teamviewer.preferences.plist", Parse: teamViewerPlist},
	}, darwinRemoteConfigs...))
	return nil
}

func macCollectDatabases(_ context.Context, inv *inventory.Inventory) error {
	alive := func(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) != syscall.ESRCH }
	inv.DatabaseServices = homebrewDatabases([]string{"/opt/homebrew", "/usr/local"}, alive)
	return nil
}

func macCollectSounds(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Sounds = p.Sounds
	return nil
}

func macCollectCameras(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Cameras = p.Cameras
	return nil
}

func macCollectInputs(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	p, err := sp.get(ctx)
	if err != nil {
		return err
	}
	inv.Inputs = p.Inputs
	return nil
}
