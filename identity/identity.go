// Package identity computes who this agent is: a stable machine UID, the short host name and
// FQDN, and the agent version. The UID is persisted so it never drifts.
package identity

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/omniagent/omniagent/version"
)

// Identity is passed to every adapter.
type Identity struct {
	MachineUID   string `json:"machine_uid"`
	UIDSource    string `json:"uid_source"` // "smbios", "machine-id", "ioplatform", "machineguid", "config", "generated"
	Hostname     string `json:"hostname"`   // short name
	FQDN         string `json:"fqdn"`
	AgentVersion string `json:"agent_version"`
}

// Store persists the identity; state.Handle satisfies it.
type Store interface {
	Load(v any) (bool, error)
	Save(v any) error
}

// Options override what is read from the system.
type Options struct {
	Hostname   string
	MachineUID string
}

// isUUID reports whether s is 32 hex digits in groups of 8-4-4-4-12, each dash optional: the
// forms firmware and OS tools print. A regexp did this, compiled at every start.
func isUUID(s string) bool {
	i := 0
	for g, n := range [...]int{8, 4, 4, 4, 12} {
		if g > 0 && i < len(s) && s[i] == '-' {
			i++
		}
		for range n {
			if i >= len(s) || !isHex(s[i]) {
				return false
			}
			i++
		}
	}
	return i == len(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Resolve computes the identity. With a store, the first UID found is kept for ever after, so a
// later unreadable DMI (a non-root run) does not change who we are.
func Resolve(ctx context.Context, opts Options, st Store) (Identity, error) {
	id := Identity{AgentVersion: version.Version}
	host := opts.Hostname
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return id, fmt.Errorf("identity: hostname: %w", err)
		}
		host = h
	}
	id.Hostname = ShortName(host)
	id.FQDN = fqdn(ctx, host)

	var saved Identity
	if st != nil {
		ok, err := st.Load(&saved)
		if err != nil {
			return id, fmt.Errorf("identity: %w", err)
		}
		if !ok {
			saved = Identity{}
		}
	}
	switch {
	case opts.MachineUID != "":
		id.MachineUID, id.UIDSource = opts.MachineUID, "config"
	case saved.MachineUID != "":
		id.MachineUID, id.UIDSource = saved.MachineUID, saved.UIDSource
	default:
		uid, src := machineUID(ctx)
		id.MachineUID, id.UIDSource = uid, src
	}
	if st != nil && id.UIDSource != "config" && id.MachineUID != "" && saved.MachineUID != id.MachineUID {
		if err := st.Save(Identity{MachineUID: id.MachineUID, UIDSource: id.UIDSource}); err != nil {
			return id, fmt.Errorf("identity: %w", err)
		}
	}
	return id, nil
}

// ShortName strips the domain from a host name.
func ShortName(h string) string {
	if i := strings.IndexByte(h, '.'); i > 0 && net.ParseIP(h) == nil {
		return h[:i]
	}
	return h
}

func fqdn(ctx context.Context, host string) string {
	if strings.Contains(host, ".") {
		return strings.TrimSuffix(host, ".")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, host); err == nil {
		if c := strings.TrimSuffix(cname, "."); strings.Contains(c, ".") {
			return c
		}
	}
	return host
}

// NormalizeUUID lower-cases a UUID and refuses the placeholder values firmware ships with.
func NormalizeUUID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !isUUID(s) {
		return ""
	}
	switch strings.ReplaceAll(s, "-", "") {
	case "00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff", "03000200040005000006000700080009":
		return ""
	}
	if len(s) == 32 {
		s = s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
	}
	return s
}
