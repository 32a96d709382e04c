package jobs_test

import (
	"testing"

	"github.com/omniagent/omniagent/config/configtest"
	"github.com/omniagent/omniagent/protocols/all"
)

// TestExampleTOML checks the [jobs] table of agent.toml.example with every setting uncommented.
func TestExampleTOML(t *testing.T) {
	j := configtest.Example(t, all.Registry()).Jobs
	if j.AllowExec || j.AllowShell || j.AllowPower || j.Shell != "/bin/bash" || j.MaxOutput != 1<<20 ||
		j.MaxDownload != 4<<30 || j.Timeout.D().Hours() != 1 {
		t.Fatalf("jobs = %+v", j)
	}
}
