package identity

import (
	"context"

	"golang.org/x/sys/windows/registry"
)

func machineUID(_ context.Context) (string, string) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return "", ""
	}
	defer k.Close()
	v, _, err := k.GetStringValue("MachineGuid")
	if err != nil {
		return "", ""
	}
	if u := NormalizeUUID(v); u != "" {
		return u, "machineguid"
	}
	return "", ""
}
