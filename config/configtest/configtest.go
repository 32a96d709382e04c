// Package configtest gives tests the repository's agent.toml.example, the single place where
// every key is documented, so each protocol checks its own section of it.
package configtest

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
)

// settingLine is a commented setting: "# key = value", "# [table]" or "# [[server]]".
// Prose lines start with "##".
var settingLine = regexp.MustCompile(`^#\s?(\[\[?[a-z_.]+\]\]?\s*$|[a-z_"][a-z0-9_."]*\s*=)`)

// Uncomment turns every commented setting of an example into a live one, leaving prose alone.
func Uncomment(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if settingLine.MatchString(line) {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// ExamplePath finds agent.toml.example at the module root, above the test's folder.
func ExamplePath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "agent.toml.example")
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("configtest: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Example parses agent.toml.example with every setting uncommented.
func Example(t testing.TB, reg config.Protocols) *config.Config {
	t.Helper()
	raw, err := os.ReadFile(ExamplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(Uncomment(string(raw))), "agent.toml.example (uncommented)", reg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// ExampleServer returns the example's one [[server]] table for protocol.
func ExampleServer(t testing.TB, reg config.Protocols, protocol string) config.Server {
	t.Helper()
	var found []config.Server
	for _, s := range Example(t, reg).Servers {
		if s.Protocol == protocol {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("agent.toml.example has %d [[server]] tables for protocol %q, want 1", len(found), protocol)
	}
	return found[0]
}
