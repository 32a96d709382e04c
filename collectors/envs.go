package collectors

import (
	"context"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectEnvs reports the agent process's environment, as glpi-agent does. It is off by
// default (config: inventory.disable lists "envs"), and values that look secret are redacted:
// names with PASS, SECRET, TOKEN, KEY, CREDENTIAL, AUTH, COOKIE or SESSION, and passwords inside URLs
// (https_proxy=http://user:pass@host).
func collectEnvs(_ context.Context, inv *inventory.Inventory) error {
	inv.Envs = EnvVars(os.Environ())
	return nil
}

// EnvVars turns KEY=VALUE pairs into sorted entries with secrets redacted.
func EnvVars(environ []string) []inventory.EnvVar {
	out := make([]inventory.EnvVar, 0, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		out = append(out, inventory.EnvVar{Key: k, Value: redactEnv(k, v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

const redacted = "<redacted>"

func redactEnv(k, v string) string {
	up := strings.ToUpper(k)
	for _, w := range []string{"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "COOKIE", "SESSION"} {
		if strings.Contains(up, w) {
			return redacted
		}
	}
	if strings.Contains(v, "@") && strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
				return strings.Replace(u.String(), "xxxxx", redacted, 1)
			}
		}
	}
	return v
}
