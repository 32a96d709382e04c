package oco

import (
	"fmt"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
)

// Lint warns about settings `omniagent config check` accepts but the adapter refuses.
func (o *Options) Lint(s config.Server, exec, shell, power bool) []config.Warning {
	var ws []config.Warning
	if strings.HasPrefix(strings.ToLower(s.URL), "http://") && !o.AllowPlainHTTP {
		ws = append(ws, config.Warning{Key: "url", Msg: "an http:// URL is refused unless allow_plain_http = true (OCO payloads carry no digest: TLS is what protects them)"})
	}
	return ws
}

// Schedule describes when the adapter talks to the server.
func (o *Options) Schedule(interval time.Duration) string {
	s := fmt.Sprintf("hello every %s", interval)
	if c := o.InventoryCheck.D(); c > 0 {
		s += fmt.Sprintf("; local inventory re-read every %s (sent when it changed)", c)
	}
	return s
}

// Status names OCO's poll for `omniagent status`: the next run is the next hello.
func (a *Adapter) Status() protocols.Status { return protocols.Status{Cycle: "hello"} }
