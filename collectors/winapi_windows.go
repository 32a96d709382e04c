package collectors

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Win32 functions that golang.org/x/sys/windows does not wrap. Lazy: a missing export (older
// Windows) is an error at call time, never at load.
var (
	modKernel32 = windows.NewLazySystemDLL("kernel32.dll")
	modNetapi32 = windows.NewLazySystemDLL("netapi32.dll")
	modWtsapi32 = windows.NewLazySystemDLL("wtsapi32.dll")
	modSlwga    = windows.NewLazySystemDLL("slwga.dll")
	modMpr      = windows.NewLazySystemDLL("mpr.dll")

	procGetSystemFirmwareTable      = modKernel32.NewProc("GetSystemFirmwareTable")
	procGetFirmwareType             = modKernel32.NewProc("GetFirmwareType")
	procNetLocalGroupEnum           = modNetapi32.NewProc("NetLocalGroupEnum")
	procNetLocalGroupGetMembers     = modNetapi32.NewProc("NetLocalGroupGetMembers")
	procWTSQuerySessionInformationW = modWtsapi32.NewProc("WTSQuerySessionInformationW")
	procSLIsGenuineLocal            = modSlwga.NewProc("SLIsGenuineLocal")
	procWNetGetConnectionW          = modMpr.NewProc("WNetGetConnectionW")
)

// rawSMBIOS reads GetSystemFirmwareTable('RSMB', 0): the RawSMBIOSData header and table.
func rawSMBIOS() ([]byte, error) {
	if err := procGetSystemFirmwareTable.Find(); err != nil {
		return nil, fmt.Errorf("GetSystemFirmwareTable: %w", err)
	}
	const rsmb = 'R'<<24 | 'S'<<16 | 'M'<<8 | 'B'
	n, _, err := procGetSystemFirmwareTable.Call(rsmb, 0, 0, 0)
	if n == 0 {
		return nil, fmt.Errorf("GetSystemFirmwareTable size: %w", err)
	}
	buf := make([]byte, n)
	got, _, err := procGetSystemFirmwareTable.Call(rsmb, 0, uintptr(unsafe.Pointer(&buf[0])), n)
	if got == 0 || got > n {
		return nil, fmt.Errorf("GetSystemFirmwareTable: %w", err)
	}
	return buf[:got], nil
}

// firmwareType is GetFirmwareType: "uefi", "legacy" or "" when unknown.
func firmwareType() string {
	if procGetFirmwareType.Find() != nil {
		return ""
	}
	var t uint32
	if r, _, _ := procGetFirmwareType.Call(uintptr(unsafe.Pointer(&t))); r == 0 {
		return ""
	}
	switch t {
	case 1:
		return "legacy"
	case 2:
		return "uefi"
	}
	return ""
}

// windowsGenuine asks SLIsGenuineLocal about the Windows application id: the licence state
// without WMI's slow SoftwareLicensingProduct query.
func windowsGenuine() (string, error) {
	if err := procSLIsGenuineLocal.Find(); err != nil {
		return "", fmt.Errorf("SLIsGenuineLocal: %w", err)
	}
	appID, err := windows.GUIDFromString("{55c92734-d682-4d71-983e-d6ec3f16059f}")
	if err != nil {
		return "", fmt.Errorf("windows application id: %w", err)
	}
	var state uint32
	r, _, _ := procSLIsGenuineLocal.Call(uintptr(unsafe.Pointer(&appID)), uintptr(unsafe.Pointer(&state)), 0)
	if r != 0 {
		return "", fmt.Errorf("SLIsGenuineLocal: %w", windows.Errno(r))
	}
	switch state {
	case 0:
		return "genuine", nil
	case 1:
		return "invalid license", nil
	case 2:
		return "tampered", nil
	case 3:
		return "offline", nil
	}
	return fmt.Sprintf("state %d", state), nil
}

// netAPIStatus turns a NET_API_STATUS into an error.
func netAPIStatus(r uintptr) error {
	if r == 0 {
		return nil
	}
	return windows.Errno(r)
}

var errMoreData = windows.ERROR_MORE_DATA

func isMoreData(err error) bool { return errors.Is(err, errMoreData) }
