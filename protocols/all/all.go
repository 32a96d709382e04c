// Package all lists the protocol adapters linked into the binary: one line per adapter.
package all

import (
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/mig"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/rdfm"
)

// Registry returns a registry of every adapter. Each is described on first lookup: a protocol
// no server uses runs no code at start.
func Registry() *protocols.Registry {
	r := protocols.NewRegistry()
	r.Add("oco", oco.Protocol)
	r.Add("glpi", glpi.Protocol)
	r.Add("rdfm", rdfm.Protocol)
	r.Add("jumpcloud", jumpcloud.Protocol)
	r.Add("mig", mig.Protocol)
	return r
}
