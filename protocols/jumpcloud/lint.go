package jumpcloud

import (
	"fmt"
	"time"
)

// Schedule describes when the adapter talks to the server.
func (o *Options) Schedule(interval time.Duration) string {
	return fmt.Sprintf("check-in (record, groups, users) every %s", interval)
}
