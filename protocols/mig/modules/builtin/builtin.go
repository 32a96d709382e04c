// Package builtin assembles the MIG modules omniagent implements into one registry.
package builtin

import (
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/mig/modules"
	"github.com/omniagent/omniagent/protocols/mig/modules/file"
	"github.com/omniagent/omniagent/protocols/mig/modules/netstat"
	"github.com/omniagent/omniagent/protocols/mig/modules/ping"
	"github.com/omniagent/omniagent/protocols/mig/modules/pkg"
	"github.com/omniagent/omniagent/protocols/mig/modules/sshkey"
	"github.com/omniagent/omniagent/protocols/mig/modules/timedrift"
)

// Registry returns every implemented module keyed by its MIG name. inv feeds the pkg module
// (its software list); nil makes pkg answer with an error result.
func Registry(inv inventory.Provider) modules.Registry {
	return modules.Registry{
		"file":      file.Module{},
		"netstat":   netstat.Module{},
		"pkg":       pkg.Module{Inventory: inv},
		"ping":      ping.Module{},
		"sshkey":    sshkey.Module{},
		"timedrift": timedrift.Module{},
	}
}
