package glpi

import (
	"fmt"
	"strings"
)

// regPath splits a deploy registry path ("HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App\Version",
// "/" accepted too) into its hive, key and last element (the value name for value checks).
func regPath(p string) (hive, key, last string, err error) {
	p = strings.Trim(strings.ReplaceAll(strings.TrimSpace(p), "/", `\`), `\`)
	parts := strings.Split(p, `\`)
	switch strings.ToUpper(parts[0]) {
	case "HKEY_LOCAL_MACHINE", "HKLM":
		hive = "HKLM"
	case "HKEY_CURRENT_USER", "HKCU":
		hive = "HKCU"
	case "HKEY_CLASSES_ROOT", "HKCR":
		hive = "HKCR"
	case "HKEY_USERS", "HKU":
		hive = "HKU"
	case "HKEY_CURRENT_CONFIG", "HKCC":
		hive = "HKCC"
	default:
		return "", "", "", fmt.Errorf("registry path %q: unknown hive %q", p, parts[0])
	}
	if len(parts) < 2 {
		return hive, "", "", nil
	}
	return hive, strings.Join(parts[1:len(parts)-1], `\`), parts[len(parts)-1], nil
}
