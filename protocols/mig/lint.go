package mig

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
)

// Lint warns about an import_agent_id file that would make the adapter fail at start.
func (o *Options) Lint(config.Server, bool, bool, bool) []config.Warning {
	var ws []config.Warning
	if o.ImportAgentID != "" {
		if _, err := readMIGAgentID(o.ImportAgentID); err != nil && !errors.Is(err, os.ErrNotExist) {
			ws = append(ws, config.Warning{Key: "import_agent_id", Msg: err.Error()})
		}
	}
	return ws
}

// Schedule describes when the adapter talks to the server: the heartbeat sets the pace, not
// the server's interval.
func (o *Options) Schedule(time.Duration) string {
	s := fmt.Sprintf("heartbeat every %s over %s", o.HeartbeatInterval.D(), o.HeartbeatTransport)
	if o.Checkin {
		return s + "; checkin mode: the relay is drained at each heartbeat, then closed"
	}
	return s + "; relay connection kept open by the daemon"
}

// Status names MIG's poll (the heartbeat) and the relay connection's state.
func (a *Adapter) Status() protocols.Status {
	s := protocols.Status{Cycle: "heartbeat"}
	if a.opts.Checkin {
		s.Session = "checkin mode: the relay is drained at each heartbeat"
		return s
	}
	a.stMu.Lock()
	s.Session = "relay " + a.relayState
	a.stMu.Unlock()
	return s
}
