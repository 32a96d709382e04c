package identity

import (
	"context"
	"os"
	"strings"
)

func machineUID(_ context.Context) (string, string) {
	if b, err := os.ReadFile("/sys/class/dmi/id/product_uuid"); err == nil {
		if u := NormalizeUUID(string(b)); u != "" {
			return u, "smbios"
		}
	}
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if u := NormalizeUUID(strings.TrimSpace(string(b))); u != "" {
				return u, "machine-id"
			}
		}
	}
	return "", ""
}
