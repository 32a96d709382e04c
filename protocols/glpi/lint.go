package glpi

import (
	"fmt"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// Schedule describes when the adapter talks to the server: GLPI sets the pace itself (the
// expiration of its CONTACT answer, GLPI's inventory frequency, 24 h by default).
func (o *Options) Schedule(time.Duration) string {
	s := "contact and inventory at the expiration the server gives (GLPI's inventory frequency, 24h by default)"
	if o.taskEnabled("deploy") {
		s += fmt.Sprintf("; deploy poll at the plugin's validity period (%s until it says)", defaultValidity)
	}
	return s
}

// Status gives `omniagent status` both sub-schedules: the CONTACT/inventory the server's
// expiration sets (24 h by default) and the deploy poll (the plugin's validity period).
func (a *Adapter) Status() protocols.Status {
	s := protocols.Status{Schedule: map[string]time.Time{"contact/inventory": a.st.NextContact}}
	if a.opts.taskEnabled("deploy") && a.st.Deploy.Enabled {
		s.Schedule["deploy poll"] = a.st.Deploy.NextPoll
	}
	return s
}
