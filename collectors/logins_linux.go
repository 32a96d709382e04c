package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// maxLogins bounds what one inventory carries from a long wtmp (busy SSH servers): the newest.
const maxLogins = 1000

// collectLogins reads the login history (wtmp), who is logged in now (utmp) and sets the
// last logged-in user.
func collectLogins(ctx context.Context, inv *inventory.Inventory) error {
	logins, err := LoginsSince(ctx, time.Time{})
	if err != nil {
		return err
	}
	inv.Logins = logins
	if n := len(logins); n > 0 {
		inv.OS.LastUser, inv.OS.LastLoginAt = logins[n-1].User, logins[n-1].Time
	}
	for _, p := range []string{"/run/utmp", "/var/run/utmp"} {
		if b, err := readFile(p); err == nil {
			recs, _ := ParseUtmp(b)
			inv.Sessions = SessionsFromUtmp(recs)
			break
		}
	}
	return nil
}

// LoginsSince returns the logins recorded in /var/log/wtmp after since (zero: all), oldest
// first, at most the newest maxLogins. The file is streamed: busy servers keep large ones. A
// missing wtmp (containers, systems logging to journald only) is no logins.
func LoginsSince(ctx context.Context, since time.Time) ([]inventory.Login, error) {
	return loginsFromFile(ctx, "/var/log/wtmp", since)
}

func loginsFromFile(ctx context.Context, path string, since time.Time) ([]inventory.Login, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read wtmp: %w", err)
	}
	defer f.Close()
	lb := loginBuilder{keep: maxLogins}
	buf := make([]byte, linuxUtmp.size*256)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.ReadFull(f, buf)
		recs, _ := ParseUtmp(buf[:n-n%linuxUtmp.size]) // a partial last record is being written
		for _, r := range recs {
			lb.add(r)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read wtmp: %w", err)
		}
	}
	return lb.result(since, maxLogins), nil
}
