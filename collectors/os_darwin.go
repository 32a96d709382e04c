package collectors

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// macCollectOS reads SystemVersion.plist, the kernel release, the system locale and the last
// user from their preference files; the install date is when Setup Assistant finished.
func macCollectOS(_ context.Context, inv *inventory.Inventory) error {
	b, err := os.ReadFile("/System/Library/CoreServices/SystemVersion.plist")
	if err != nil {
		return fmt.Errorf("macOS version: %w", err)
	}
	o, err := macOSFromSystemVersion(b)
	if err != nil {
		return err
	}
	if rel, err := unix.Sysctl("kern.osrelease"); err == nil {
		o.KernelVersion = rel
	}
	o.Arch = map[string]string{"arm64": "arm64", "amd64": "x86_64"}[runtime.GOARCH]
	if tr, err := unix.SysctlUint32("sysctl.proc_translated"); err == nil && tr == 1 {
		o.Arch = "arm64" // an x86_64 agent under Rosetta
	}
	if b, err := os.ReadFile("/Library/Preferences/.GlobalPreferences.plist"); err == nil {
		if m, err := plistDict(b); err == nil {
			o.Language = plistString(m, "AppleLocale")
		}
	}
	if b, err := os.ReadFile("/Library/Preferences/com.apple.loginwindow.plist"); err == nil {
		if m, err := plistDict(b); err == nil {
			o.LastUser = plistString(m, "lastUserName")
		}
	}
	if st, err := os.Stat("/var/db/.AppleSetupDone"); err == nil {
		o.InstallDate = st.ModTime().UTC()
	}
	inv.OS = o
	return nil
}
