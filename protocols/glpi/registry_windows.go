//go:build windows

package glpi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/windows/registry"
)

var hives = map[string]registry.Key{"HKLM": registry.LOCAL_MACHINE, "HKCU": registry.CURRENT_USER,
	"HKCR": registry.CLASSES_ROOT, "HKU": registry.USERS, "HKCC": registry.CURRENT_CONFIG}

var regTypes = map[uint32]string{registry.SZ: "REG_SZ", registry.EXPAND_SZ: "REG_EXPAND_SZ", registry.BINARY: "REG_BINARY",
	registry.DWORD: "REG_DWORD", registry.MULTI_SZ: "REG_MULTI_SZ", registry.QWORD: "REG_QWORD", registry.NONE: "REG_NONE"}

// evalRegistry evaluates the win* deploy checks.
func evalRegistry(typ, path, want string) (bool, error) {
	hive, parent, last, err := regPath(path)
	if err != nil {
		return false, err
	}
	root := hives[hive]
	switch typ {
	case "winkeyExists", "winkeyMissing":
		key := strings.Trim(parent+`\`+last, `\`)
		k, err := registry.OpenKey(root, key, registry.QUERY_VALUE|registry.WOW64_64KEY)
		if err == nil {
			k.Close()
		}
		exists := err == nil
		return exists == (typ == "winkeyExists"), nil
	}
	k, err := registry.OpenKey(root, parent, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		if typ == "winvalueMissing" || typ == "winkeyNotEquals" {
			return true, nil
		}
		return false, fmt.Errorf("registry key %s\\%s: %w", hive, parent, err)
	}
	defer k.Close()
	_, vt, err := k.GetValue(last, nil)
	exists := err == nil || errors.Is(err, registry.ErrShortBuffer)
	switch typ {
	case "winvalueExists", "winvalueMissing":
		return exists == (typ == "winvalueExists"), nil
	case "winvalueType":
		if !exists {
			return false, fmt.Errorf("no registry value %s", path)
		}
		return strings.EqualFold(regTypes[vt], want), nil
	case "winkeyEquals", "winkeyNotEquals":
		if !exists {
			return typ == "winkeyNotEquals", nil
		}
		var got string
		switch vt {
		case registry.SZ, registry.EXPAND_SZ:
			got, _, err = k.GetStringValue(last)
		case registry.DWORD, registry.QWORD:
			var n uint64
			n, _, err = k.GetIntegerValue(last)
			got = strconv.FormatUint(n, 10)
		case registry.MULTI_SZ:
			var l []string
			l, _, err = k.GetStringsValue(last)
			got = strings.Join(l, "\n")
		default:
			return false, fmt.Errorf("registry value %s has type %s: cannot compare", path, regTypes[vt])
		}
		if err != nil {
			return false, fmt.Errorf("registry value %s: %w", path, err)
		}
		return (got == want) == (typ == "winkeyEquals"), nil
	}
	return false, fmt.Errorf("unknown registry check %q", typ)
}
