package glpi

import (
	"fmt"
	"time"
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
