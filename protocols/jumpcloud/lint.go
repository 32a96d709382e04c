package jumpcloud

import (
	"fmt"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// Schedule describes when the adapter talks to the server.
func (o *Options) Schedule(interval time.Duration) string {
	return fmt.Sprintf("check-in (record, groups, users) every %s", interval)
}

// Status names JumpCloud's poll for `omniagent status`.
func (a *Adapter) Status() protocols.Status { return protocols.Status{Cycle: "check-in"} }
