package collectors

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/windows"

	"github.com/omniagent/omniagent/inventory"
)

// winCollectOS reads the version from the registry (CurrentVersion), the UI language, the
// licence state (SLIsGenuineLocal, best effort), the last logged-on user and MachineGuid.
func winCollectOS(ctx context.Context, inv *inventory.Inventory) error {
	cv, err := hklm(`SOFTWARE\Microsoft\Windows NT\CurrentVersion`)
	if err != nil {
		return fmt.Errorf("windows version: %w", err)
	}
	inv.OS = windowsOSFromRegistry(cv)
	cv.Close()
	inv.OS.Arch = winArch()
	if langs, err := windows.GetSystemPreferredUILanguages(windows.MUI_LANGUAGE_NAME); err == nil && len(langs) > 0 {
		inv.OS.Language = strings.ReplaceAll(langs[0], "-", "_")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	if st, err := windowsGenuine(); err == nil {
		inv.OS.Activation = st
	} else {
		errs = append(errs, fmt.Errorf("activation status: %w", err))
	}
	if k, err := hklm(`SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`); err == nil {
		inv.OS.LastUser = firstNonEmpty(regStr(k, "LastLoggedOnSAMUser"), regStr(k, "LastLoggedOnUser"))
		k.Close()
	}
	if k, err := hklm(`SOFTWARE\Microsoft\Cryptography`); err == nil {
		inv.OS.HostID = regStr(k, "MachineGuid")
		k.Close()
	}
	return errors.Join(errs...)
}

// winArch names the OS architecture; a 64-bit agent only runs on a 64-bit Windows of the same
// kind, except amd64 under emulation on arm64, which IsWow64Process2 reveals.
func winArch() string {
	var proc, native uint16
	if err := windows.IsWow64Process2(windows.CurrentProcess(), &proc, &native); err == nil {
		switch native {
		case 0xAA64: // IMAGE_FILE_MACHINE_ARM64
			return "arm64"
		case 0x8664: // IMAGE_FILE_MACHINE_AMD64
			return "x86_64"
		}
	}
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return runtime.GOARCH
}
