// Package all links every protocol adapter into the binary: one import line per adapter.
package all

import _ "github.com/omniagent/omniagent/protocols/oco"
import _ "github.com/omniagent/omniagent/protocols/glpi"
import _ "github.com/omniagent/omniagent/protocols/rdfm"
import _ "github.com/omniagent/omniagent/protocols/jumpcloud"
import _ "github.com/omniagent/omniagent/protocols/mig"
