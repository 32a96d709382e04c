package main

import (
	"github.com/omniagent/omniagent/protocols/all"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/config/configtest"
)

const examplePath = "../../agent.toml.example"

// TestExampleConfig checks that agent.toml.example parses as shipped (everything commented) and
// with every setting uncommented, against the real protocol registry.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse(raw, "agent.toml.example", all.Registry()); err != nil {
		t.Fatalf("as shipped: %v", err)
	}
	cfg, err := config.Parse([]byte(configtest.Uncomment(string(raw))), "agent.toml.example (uncommented)", all.Registry())
	if err != nil {
		t.Fatalf("uncommented: %v", err)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Servers {
		seen[s.Protocol] = true
	}
	for _, name := range all.Registry().Names() {
		if !seen[name] {
			t.Errorf("agent.toml.example has no [[server]] example for protocol %q", name)
		}
	}
}

// TestExampleShowsEveryKey walks the config structs and every protocol's options and checks that
// each key appears in agent.toml.example.
func TestExampleShowsEveryKey(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := configtest.Uncomment(string(raw))
	has := func(key string) bool {
		return regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(key) + `\s*=|\[\[?[a-z_.]*\b` + regexp.QuoteMeta(key) + `\]\]?|^##.*\b` + regexp.QuoteMeta(key) + `\b`).MatchString(text)
	}
	check := func(where string, v any) {
		for _, k := range tomlKeys(reflect.TypeOf(v)) {
			if !has(k) {
				t.Errorf("%s: key %q is not documented in agent.toml.example", where, k)
			}
		}
	}
	check("[agent]", config.Agent{})
	check("[inventory]", config.Inventory{})
	check("[jobs]", config.Jobs{})
	check("[[server]]", config.Server{})
	for _, name := range all.Registry().Names() {
		p, _ := all.Registry().Lookup(name)
		if p.NewOptions != nil {
			check("protocol "+name, p.NewOptions())
		}
	}
}

func tomlKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			if f.Anonymous {
				out = append(out, tomlKeys(f.Type)...)
			}
			continue
		}
		out = append(out, tag)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" && !strings.HasPrefix(ft.String(), "config.") {
			out = append(out, tomlKeys(ft)...)
		}
	}
	return out
}
