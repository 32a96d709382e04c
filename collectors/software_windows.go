package collectors

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"

	"github.com/omniagent/omniagent/inventory"
)

const uninstallPath = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// winCollectSoftware reads the Uninstall keys of the 64-bit and 32-bit registry views and of
// every loaded user hive (users logged on now; hives of users who are not logged on are not
// loaded, and loading them would lock their profiles, so they are not read), and the MSIX/Store
// packages from the Appx package store (best effort).
func winCollectSoftware(ctx context.Context, inv *inventory.Inventory) error {
	native := winArch()
	var errs []error
	views := []struct {
		wow  uint32
		arch string
	}{{registry.WOW64_64KEY, native}, {registry.WOW64_32KEY, "i386"}}
	for _, v := range views {
		k, err := openWinKey(registry.LOCAL_MACHINE, uninstallPath, v.wow)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		inv.Software = append(inv.Software, softwareFromUninstall(k, v.arch, "")...)
		k.Close()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	names := profileNames()
	if k, err := hklm(`SOFTWARE\Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore`); err == nil {
		inv.Software = append(inv.Software, appxFromRegistry(k, names)...)
		k.Close()
	}
	users, err := openWinKey(registry.USERS, "", 0)
	if err != nil {
		errs = append(errs, err)
	} else {
		for _, sid := range userSoftwareHives(users) {
			k, err := users.Open(sid + `\` + uninstallPath)
			if err != nil {
				continue // no per-user installs
			}
			inv.Software = append(inv.Software, softwareFromUninstall(k, native, firstNonEmpty(names[sid], sid))...)
			k.Close()
		}
		users.Close()
	}
	sortSoftware(inv.Software)
	if len(inv.Software) == 0 && len(errs) > 0 {
		return fmt.Errorf("installed software: %w", errors.Join(errs...))
	}
	return nil
}

// profileNames maps SIDs to account names from ProfileList.
func profileNames() map[string]string {
	out := map[string]string{}
	k, err := hklm(`SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`)
	if err != nil {
		return out
	}
	defer k.Close()
	for _, u := range usersFromProfileList(k) {
		out[u.UID] = strings.TrimSpace(u.Name)
	}
	return out
}
