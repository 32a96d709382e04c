package collectors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

const ioregTimeout = 5 * time.Second

// macCollectSoftware lists applications (system_profiler) and installer package receipts
// (/var/db/receipts, what `pkgutil --pkgs` lists, read directly).
func macCollectSoftware(ctx context.Context, inv *inventory.Inventory, sp *sysProfiler) error {
	receipts, rerr := softwareFromReceipts(os.DirFS("/var/db/receipts"))
	p, perr := sp.get(ctx)
	if perr == nil {
		inv.Software = append(inv.Software, p.Software...)
	}
	inv.Software = append(inv.Software, receipts...)
	if perr != nil || rerr != nil {
		err := errors.Join(perr, rerr)
		if len(inv.Software) == 0 {
			return fmt.Errorf("installed software: %w", err)
		}
		return err // partial: reported, what was read is kept
	}
	return nil
}

// macCollectUsers reads local users and groups from the local directory's records
// (/var/db/dslocal, root-only: no process to spawn); when they are unreadable (not root) it asks
// dscl for the same attributes as a plist, two bounded runs.
func macCollectUsers(ctx context.Context, inv *inventory.Inventory) error {
	const node = "/var/db/dslocal/nodes/Default/"
	users, groups, err := usersFromDSLocal(os.DirFS(node+"users"), os.DirFS(node+"groups"))
	if err == nil && len(users) > 0 {
		inv.Users, inv.Groups = users, groups
		return nil
	}
	ub, uerr := macRun(ctx, 10*time.Second, "/usr/bin/dscl", append([]string{"-plist", ".", "-readall", "/Users"}, dsclUserAttrs...)...)
	if uerr != nil {
		return fmt.Errorf("local users: dslocal: %w; dscl: %w", err, uerr)
	}
	urecs, uerr := dsclRecords(ub)
	if uerr != nil {
		return fmt.Errorf("local users: %w", uerr)
	}
	var grecs []map[string]any
	gb, gerr := macRun(ctx, 10*time.Second, "/usr/bin/dscl", append([]string{"-plist", ".", "-readall", "/Groups"}, dsclGroupAttrs...)...)
	if gerr == nil {
		grecs, gerr = dsclRecords(gb)
	}
	inv.Users, inv.Groups = usersFromDirectoryRecords(urecs, grecs)
	if gerr != nil {
		return fmt.Errorf("local groups: %w", gerr)
	}
	return nil
}

// macCollectLogins reads /var/run/utmpx: who is logged in now, and those sessions as logins.
// macOS keeps no wtmp; older logins are only in the unified log, which is not read.
func macCollectLogins(_ context.Context, inv *inventory.Inventory) error {
	b, err := os.ReadFile("/var/run/utmpx")
	if err != nil {
		return fmt.Errorf("logins: %w", err)
	}
	recs, err := ParseUtmpx(b)
	if err != nil && !errors.Is(err, ErrTruncatedUtmp) {
		return fmt.Errorf("logins: %w", err)
	}
	inv.Sessions = SessionsFromUtmp(recs)
	inv.Logins = LoginsFromUtmp(recs, time.Time{})
	if n := len(inv.Logins); n > 0 {
		inv.OS.LastLoginAt = inv.Logins[n-1].Time
	}
	return nil
}

type ifaceState struct {
	MTU int
	Up  bool
}

func netInterfaceByName(name string) (ifaceState, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return ifaceState{}, err
	}
	return ifaceState{MTU: ifc.MTU, Up: ifc.Flags&net.FlagUp != 0}, nil
}

// LoginsSince returns the sessions in /var/run/utmpx that began after since (zero: all),
// oldest first. macOS keeps no wtmp, so these are the sessions still open.
func LoginsSince(_ context.Context, since time.Time) ([]inventory.Login, error) {
	b, err := os.ReadFile("/var/run/utmpx")
	if err != nil {
		return nil, fmt.Errorf("logins: %w", err)
	}
	recs, err := ParseUtmpx(b)
	if err != nil && !errors.Is(err, ErrTruncatedUtmp) {
		return nil, fmt.Errorf("logins: %w", err)
	}
	return LoginsFromUtmp(recs, since), nil
}
