package jobs_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
)

// TestExampleTOML parses example.toml with every setting uncommented.
func TestExampleTOML(t *testing.T) {
	raw, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^#\s?(\[\[?[a-z_.]+\]\]?\s*$|[a-z_][a-z0-9_]*\s*=)`)
	var b strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if setting.MatchString(line) {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		b.WriteString(line + "\n")
	}
	cfg, err := config.Parse([]byte(b.String()), "example.toml", protocols.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.Jobs
	if j.AllowExec || j.AllowShell || j.AllowPower || j.Shell != "/bin/bash" || j.MaxOutput != 1<<20 ||
		j.MaxDownload != 4<<30 || j.Timeout.D().Hours() != 1 {
		t.Fatalf("jobs = %+v", j)
	}
}
