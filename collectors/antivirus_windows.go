package collectors

import (
	"context"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/omniagent/omniagent/inventory"
)

// securityCenterAV is root\SecurityCenter2 AntiVirusProduct.
type securityCenterAV struct {
	DisplayName            string
	InstanceGuid           string
	ProductState           uint32
	PathToSignedProductExe string
}

// winCollectAntivirus asks Windows Security Center (WMI root\SecurityCenter2, client Windows
// only) for every registered antivirus; Defender's signature versions come from its registry
// keys. On Windows Server, which has no Security Center, Defender's keys are the only source.
func winCollectAntivirus(ctx context.Context, inv *inventory.Inventory) error {
	var def inventory.Antivirus
	defOK := false
	if k, err := hklm(`SOFTWARE\Microsoft\Windows Defender`); err == nil {
		def, defOK = defenderFromRegistry(k)
		k.Close()
	}
	rows, werr := wmiQuery[securityCenterAV](ctx, `root\SecurityCenter2`,
		"SELECT displayName, instanceGuid, productState, pathToSignedProductExe FROM AntiVirusProduct")
	for _, r := range rows {
		av := inventory.Antivirus{Name: r.DisplayName, GUID: r.InstanceGuid}
		av.Enabled, av.UpToDate = decodeAVProductState(r.ProductState)
		av.Company, av.Version = fileVersionInfo(r.PathToSignedProductExe)
		if defOK && strings.Contains(strings.ToLower(r.DisplayName), "defender") {
			av.Company = firstNonEmpty(av.Company, def.Company)
			av.Version, av.Signatures = firstNonEmpty(def.Version, av.Version), def.Signatures
			defOK = false // reported through Security Center
		}
		inv.Antivirus = append(inv.Antivirus, av)
	}
	if defOK && (werr != nil || len(rows) == 0) {
		inv.Antivirus = append(inv.Antivirus, def)
	}
	if werr != nil && len(inv.Antivirus) == 0 {
		return fmt.Errorf("antivirus: %w", werr)
	}
	return nil
}

// fileVersionInfo reads CompanyName and the file version of an executable (the antivirus's
// signed product exe) from its version resource. Empty when unreadable.
func fileVersionInfo(path string) (company, version string) {
	p, err := registry.ExpandString(path)
	if err != nil || p == "" || !strings.Contains(p, `\`) {
		return "", "" // "windowsdefender://" and other non-paths
	}
	size, err := windows.GetFileVersionInfoSize(p, nil)
	if err != nil || size == 0 {
		return "", ""
	}
	buf := make([]byte, size)
	if err := windows.GetFileVersionInfo(p, 0, size, unsafe.Pointer(&buf[0])); err != nil {
		return "", ""
	}
	var fixed *windows.VS_FIXEDFILEINFO
	var n uint32
	if err := windows.VerQueryValue(unsafe.Pointer(&buf[0]), `\`, unsafe.Pointer(&fixed), &n); err == nil && fixed != nil && n >= uint32(unsafe.Sizeof(*fixed)) {
		version = fmt.Sprintf("%d.%d.%d.%d", fixed.FileVersionMS>>16, fixed.FileVersionMS&0xffff, fixed.FileVersionLS>>16, fixed.FileVersionLS&0xffff)
	}
	var trans *[2]uint16
	if err := windows.VerQueryValue(unsafe.Pointer(&buf[0]), `\VarFileInfo\Translation`, unsafe.Pointer(&trans), &n); err != nil || trans == nil || n < 4 {
		return "", version
	}
	var name *uint16
	sub := fmt.Sprintf(`\StringFileInfo\%04x%04x\CompanyName`, trans[0], trans[1])
	if err := windows.VerQueryValue(unsafe.Pointer(&buf[0]), sub, unsafe.Pointer(&name), &n); err == nil && name != nil && n > 0 {
		company = windows.UTF16PtrToString(name)
	}
	return strings.TrimSpace(company), version
}
