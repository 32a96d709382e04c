package mig

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
)

// Heartbeat transports.
const (
	HeartbeatHTTP = "http" // POST {url}/heartbeat (MIG ≥ 2018)
	HeartbeatAMQP = "amqp" // legacy heartbeat on toschedulers / mig.agt.heartbeats
)

// Options are the MIG keys of a [[server]] table. The table's `url` is the MIG API base
// (https://mig.example.com/api/v1); its ca_file, client_cert and client_key also apply to an
// amqps relay.
type Options struct {
	// Relay is the RabbitMQ relay: amqp://user:password@host:5672/mig or amqps://…:5671/mig.
	Relay string `toml:"relay"`
	// HeartbeatTransport is "http" (default) or "amqp" (servers older than 2018). Never both:
	// concurrent first inserts create duplicate agent rows.
	HeartbeatTransport string `toml:"heartbeat_transport"`
	// HeartbeatInterval is the time between heartbeats (MIG's default 300 s); it must stay
	// below the scheduler's [agent] timeout.
	HeartbeatInterval config.Duration `toml:"heartbeat_interval"`
	// ModuleTimeout bounds each operation (capped by the action's expiry).
	ModuleTimeout config.Duration `toml:"module_timeout"`
	// Tags are sent with the heartbeat; investigators target them (tags->>'operator'='IT').
	Tags map[string]string `toml:"tags"`
	// KeyringDir holds the investigators' public keys, one armored key per file.
	KeyringDir string `toml:"keyring_dir"`
	// ACLFile is MIG's weighted per-module ACL (JSON).
	ACLFile string `toml:"acl_file"`
	// OnlyVerifyPubkey skips the ACL: any valid signature from the keyring authorises.
	OnlyVerifyPubkey bool `toml:"only_verify_pubkey"`
	// Checkin runs as a MIG check-in agent: no standing relay connection; every cycle sends a
	// heartbeat, drains the queue and disconnects. The heartbeat mode is then "checkin".
	Checkin bool `toml:"checkin"`
	// ImportAgentID is MIG's .migagtid file: when no queueloc is stored yet its content becomes
	// ours, so omniagent takes over an existing MIG agent's queue.
	ImportAgentID string `toml:"import_agent_id"`
	// RelayProxy reaches the relay through an HTTP CONNECT proxy: http://[user:password@]host:port.
	// Empty: direct. (The table's `proxy` applies to the API calls only.)
	RelayProxy string `toml:"relay_proxy"`
	// AMQPHeartbeat is the AMQP connection heartbeat (keep-alive frames), 30–60 s.
	AMQPHeartbeat config.Duration `toml:"amqp_heartbeat"`
	// MaxPendingResults caps results kept in memory while the relay is unreachable.
	MaxPendingResults int `toml:"max_pending_results"`
}

// MIG's default keyring folder and ACL file, so that omniagent is a drop-in replacement.
func defaultPaths(goos string) (keyring, acl string) {
	if goos == "windows" {
		return `C:\mig\agentkeys`, `C:\mig\acl.cfg`
	}
	return "/etc/mig/agentkeys", "/etc/mig/acl.cfg"
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	kr, acl := defaultPaths(runtime.GOOS)
	return &Options{
		HeartbeatTransport: HeartbeatHTTP,
		HeartbeatInterval:  config.Duration(300 * time.Second),
		ModuleTimeout:      config.Duration(300 * time.Second),
		KeyringDir:         kr,
		ACLFile:            acl,
		AMQPHeartbeat:      config.Duration(30 * time.Second),
		MaxPendingResults:  1000,
	}
}

// Validate checks the values.
func (o *Options) Validate() error {
	var errs []error
	if o.Relay == "" {
		errs = append(errs, errors.New("relay is required (amqp://user:password@host:5672/mig or amqps://…)"))
	} else if err := checkRelayURL(o.Relay); err != nil {
		errs = append(errs, err)
	}
	switch o.HeartbeatTransport {
	case HeartbeatHTTP, HeartbeatAMQP:
	default:
		errs = append(errs, fmt.Errorf("heartbeat_transport %q: want %q or %q", o.HeartbeatTransport, HeartbeatHTTP, HeartbeatAMQP))
	}
	if o.HeartbeatInterval.D() < time.Second {
		errs = append(errs, fmt.Errorf("heartbeat_interval %s: must be at least 1s", o.HeartbeatInterval.D()))
	}
	if o.ModuleTimeout.D() < time.Second {
		errs = append(errs, fmt.Errorf("module_timeout %s: must be at least 1s", o.ModuleTimeout.D()))
	}
	if o.RelayProxy != "" {
		if u, err := url.Parse(o.RelayProxy); err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("relay_proxy %q: want http://[user:password@]host:port (percent-encode special characters of the password, such as %%25 for %%, %%40 for @)", httpclient.RedactURL(o.RelayProxy)))
		}
	}
	if a := o.AMQPHeartbeat.D(); a != 0 && a < time.Second {
		errs = append(errs, fmt.Errorf("amqp_heartbeat %s: must be at least 1s", a))
	}
	for k := range o.Tags {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("tags: empty tag name"))
		}
	}
	for key, p := range map[string]string{"keyring_dir": o.KeyringDir, "acl_file": o.ACLFile, "import_agent_id": o.ImportAgentID} {
		if p != "" && !filepath.IsAbs(p) && !isWindowsAbs(p) {
			errs = append(errs, fmt.Errorf("%s %q: must be an absolute path", key, p))
		}
	}
	if o.MaxPendingResults < 1 {
		errs = append(errs, errors.New("max_pending_results must be at least 1"))
	}
	return errors.Join(errs...)
}

// isWindowsAbs accepts C:\… paths whatever the build OS, so a shared config validates anywhere.
func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

func checkRelayURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only a generic reason.
		return errors.New("relay: not a URL (want amqp[s]://user:password@host:port/vhost)")
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return fmt.Errorf("relay %q: scheme must be amqp or amqps", httpclient.RedactURL(s))
	}
	if u.Host == "" {
		return fmt.Errorf("relay %q: no host", httpclient.RedactURL(s))
	}
	return nil
}

// DescribeRelayProxy says, redacted, how the relay is reached, for `config check`: only
// relay_proxy applies to it, never the table's proxy key or HTTPS_PROXY.
func (o *Options) DescribeRelayProxy() string {
	if o.RelayProxy == "" {
		return "direct (relay_proxy not set; the proxy key and HTTPS_PROXY do not apply to the relay)"
	}
	return "relay_proxy " + httpclient.RedactURL(o.RelayProxy) + " (CONNECT to the AMQP port)"
}
