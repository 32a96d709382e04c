package oco

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
)

// Protocol modes.
const (
	ModeHMAC   = "hmac"   // OCO ≥ 1.1.7: HMAC-signed requests and answers, timestamps
	ModeLegacy = "legacy" // OCO ≤ 1.1.6: plaintext agent-key in every request
	ModeAuto   = "auto"   // HMAC, falling back to legacy only before any signed answer was seen
)

// Options are the OCO keys of a [[server]] table.
type Options struct {
	// RegistrationKey is the installer's agent key, used until the server issues our own.
	RegistrationKey string `toml:"registration_key"`
	// ServerKey pins the server key in advance (otherwise trust on first use).
	ServerKey string `toml:"server_key"`
	// OCOProtocol is "hmac" (default), "legacy" or "auto".
	OCOProtocol string `toml:"oco_protocol"`
	// AllowPlainHTTP permits an http:// URL: OCO payloads carry no digest, so TLS is what
	// protects them.
	AllowPlainHTTP bool `toml:"allow_plain_http"`
	// AgentVersion is the version reported to the server; it must compare ≥ 1.1.7 for HMAC.
	AgentVersion string `toml:"agent_version"`
	// UID overrides the machine UID sent; "none" omits it.
	UID string `toml:"uid"`
	// SRVDomain is the DNS domain searched for _oco._tcp when url is empty (default: the
	// host's domain and the resolver's search list).
	SRVDomain string `toml:"srv_domain"`
	// LiveOutput is how often running job output is reported; "0s" turns it off.
	LiveOutput config.Duration `toml:"live_output"`
	// InventoryCheck is how often the full inventory is re-read, after a hello, to notice
	// changes (hello's own facts are read at every hello).
	InventoryCheck config.Duration `toml:"inventory_check"`
	// StrictServerTimestamp refuses answers whose timestamp is not newer than the last one.
	StrictServerTimestamp bool `toml:"strict_server_timestamp"`
	// Events enables the server's event queries.
	Events bool `toml:"events"`
	// PasswordRotation lets this server rotate local account passwords (OCO's LAPS). Off by
	// default: an administrator must opt in before a server may change local passwords.
	PasswordRotation bool `toml:"password_rotation"`
	// PasswordRotationUsers, when set, is the only accounts the server may rotate.
	PasswordRotationUsers []string `toml:"password_rotation_users"`
	// ServiceChecksDir holds CheckMK-style local check executables whose output is sent as
	// the computer's services; "" = none.
	ServiceChecksDir string `toml:"service_checks_dir"`
	// ServiceChecksTimeout bounds each check.
	ServiceChecksTimeout config.Duration `toml:"service_checks_timeout"`
	// ServiceChecksInterval is how often the checks run (results are cached in between);
	// 0 = at every hello.
	ServiceChecksInterval config.Duration `toml:"service_checks_interval"`
	// LocalUsersMinUID and LocalUsersMaxUID bound the numeric uids of the local accounts
	// sent (the official agent's local-users-min-uid/-max-uid): people, not system accounts.
	// Accounts without a numeric uid (Windows SIDs) are always sent.
	LocalUsersMinUID int64 `toml:"local_users_min_uid"`
	LocalUsersMaxUID int64 `toml:"local_users_max_uid"`
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		OCOProtocol:           ModeHMAC,
		AgentVersion:          "1.2.0",
		LiveOutput:            config.Duration(5 * time.Second),
		InventoryCheck:        config.Duration(time.Hour),
		StrictServerTimestamp: true,
		Events:                true,
		ServiceChecksTimeout:  config.Duration(30 * time.Second),
		LocalUsersMinUID:      1000,
		LocalUsersMaxUID:      65534,
	}
}

// Validate checks the values.
func (o *Options) Validate() error {
	switch o.OCOProtocol {
	case ModeHMAC, ModeLegacy, ModeAuto:
	case "":
		o.OCOProtocol = ModeHMAC
	default:
		return fmt.Errorf("oco_protocol %q: want \"hmac\", \"legacy\" or \"auto\"", o.OCOProtocol)
	}
	if strings.TrimSpace(o.AgentVersion) == "" {
		o.AgentVersion = "1.2.0"
	}
	if o.OCOProtocol != ModeLegacy && versionCompare(o.AgentVersion, "1.1.7") < 0 {
		return fmt.Errorf("agent_version %q compares below 1.1.7 under the server's rules (a suffix such as -go sorts lower): the server would treat this agent as legacy; use a plain version such as \"1.2.0\"", o.AgentVersion)
	}
	if o.InventoryCheck.D() != 0 && o.InventoryCheck.D() < time.Minute {
		return fmt.Errorf("inventory_check %s: use at least 1m (or 0s to re-read only when the server asks)", o.InventoryCheck.D())
	}
	if t := o.ServiceChecksTimeout.D(); t < time.Second || t > 10*time.Minute {
		return fmt.Errorf("service_checks_timeout %s: use 1s to 10m", t)
	}
	if o.ServiceChecksInterval.D() < 0 {
		return fmt.Errorf("service_checks_interval %s: must not be negative", o.ServiceChecksInterval.D())
	}
	for _, u := range o.PasswordRotationUsers {
		if strings.TrimSpace(u) == "" {
			return errors.New("password_rotation_users: empty user name")
		}
	}
	if o.LocalUsersMinUID < 0 || o.LocalUsersMaxUID < o.LocalUsersMinUID {
		return fmt.Errorf("local_users_min_uid %d, local_users_max_uid %d: want 0 <= min <= max", o.LocalUsersMinUID, o.LocalUsersMaxUID)
	}
	if o.LiveOutput.D() != 0 && o.LiveOutput.D() < time.Second {
		return fmt.Errorf("live_output %s: use at least 1s, or 0s for none", o.LiveOutput.D())
	}
	return nil
}
