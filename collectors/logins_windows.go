package collectors

import (
	"context"
	"fmt"
	"time"

	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/inventory"
)

// winMaxLogins bounds what one inventory carries from a long Security log: the newest.
const winMaxLogins = 1000

// LoginsSince returns the interactive logons (console, Remote Desktop, cached) recorded in the
// Security event log after since (zero: all), oldest first, at most the newest 1000. Reading
// the Security log needs administrator rights, which the agent's service account has.
func LoginsSince(ctx context.Context, since time.Time) ([]inventory.Login, error) {
	evs, err := eventlog.Read(ctx, eventlog.Query{Log: "Security", Query: logonEventQuery, Since: since, Limit: winMaxLogins})
	logins := loginsFromLogonEvents(evs)
	if err != nil {
		return logins, fmt.Errorf("logins from the Security log: %w", err)
	}
	return logins, nil
}

// winCollectLogins reads the logon history (Security log) and who is logged on now (WTS).
func winCollectLogins(ctx context.Context, inv *inventory.Inventory) error {
	logins, lerr := LoginsSince(ctx, time.Time{})
	serr := winCollectSessions(ctx, inv)
	inv.Logins = logins // the history replaces the sessions-as-logins fallback
	if len(logins) == 0 && lerr != nil {
		// No history (no rights, log cleared): current sessions are the logins we know.
		for _, s := range inv.Sessions {
			if !s.Since.IsZero() {
				inv.Logins = append(inv.Logins, inventory.Login{User: s.User, Console: s.Console, Remote: s.Remote, Time: s.Since})
			}
		}
	}
	if n := len(inv.Logins); n > 0 {
		inv.OS.LastLoginAt = inv.Logins[n-1].Time
	}
	switch {
	case lerr != nil && serr != nil:
		return fmt.Errorf("%w; %w", lerr, serr)
	case lerr != nil:
		return lerr
	}
	return serr
}
