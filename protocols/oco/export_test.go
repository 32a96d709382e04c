package oco

import (
	"context"
	"net"

	"github.com/omniagent/omniagent/eventlog"
)

// SetEventReader replaces the system event log reader (tests feed recorded events).
func SetEventReader(a *Adapter, f func(ctx context.Context, q eventlog.Query) ([]eventlog.Event, error)) {
	a.readEvents = f
}

// SetResolver points SRV discovery at another DNS server.
func SetResolver(a *Adapter, r *net.Resolver) { a.resolver = r }

// VersionCompare exposes the PHP version_compare port.
func VersionCompare(a, b string) int { return versionCompare(a, b) }

// SetAfterPasswordsStored runs f once the server has accepted new passwords, before any
// account is changed; f returning true stops the rotation there, as a crash would.
func SetAfterPasswordsStored(a *Adapter, f func() bool) { a.crashAfterStore = f }
