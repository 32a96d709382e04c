package glpi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/omniagent/omniagent/protocols/glpi/invschema"
)

// The inventory_format schemas (MIT, see testdata/LICENSE.inventory_format.txt): the current
// one, closed only at the top level, and the strict 1.1.32 one GLPI 10.0.x enforces.
//
//go:embed testdata/inventory.schema.json testdata/inventory.schema.strict-1.1.32.json
var schemaFS embed.FS

// Schema file names inside the embedded folder.
const (
	SchemaCurrent  = "testdata/inventory.schema.json"
	SchemaStrict32 = "testdata/inventory.schema.strict-1.1.32.json"
)

// Schemas are compiled once per process and never change: compiling costs about ten
// milliseconds, validating a fraction of one. (A zero sync.Once, not sync.OnceValues, which
// would run at every start of the agent.)
var schemas struct {
	once sync.Once
	list []*invschema.Schema
	err  error
}

func compiled() ([]*invschema.Schema, error) {
	schemas.once.Do(func() { schemas.list, schemas.err = compileSchemas() })
	return schemas.list, schemas.err
}

func compileSchemas() ([]*invschema.Schema, error) {
	var out []*invschema.Schema
	for _, name := range []string{SchemaCurrent, SchemaStrict32} {
		raw, err := schemaFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		s, err := invschema.Compile(raw)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// SchemaFile returns an embedded schema document.
func SchemaFile(name string) ([]byte, error) { return schemaFS.ReadFile(name) }

// repairLimit bounds the validate-and-drop rounds; each round removes every field reported.
const repairLimit = 8

// tombstone marks a value to remove after a repair round.
type tombstone struct{}

// sanitize validates doc (a generic JSON document: the whole INVENTORY message) against the
// schemas and drops each offending field, logging it, until it validates. It returns the
// dropped locations. Only an invalid skeleton (content itself, deviceid) is an error.
func sanitize(doc any, schemas []*invschema.Schema, log *slog.Logger) ([]string, error) {
	var dropped []string
	for round := 0; round < repairLimit; round++ {
		var violations []invschema.Violation
		for _, s := range schemas {
			violations = append(violations, s.Validate(doc)...)
		}
		if len(violations) == 0 {
			return dropped, nil
		}
		for _, v := range violations {
			loc, what, err := drop(doc, v)
			if err != nil {
				return dropped, err
			}
			if loc != "" {
				log.Warn("inventory field dropped: it would violate the GLPI schema", "field", loc, "reason", what)
				dropped = append(dropped, loc)
			}
		}
		compact(doc)
	}
	return dropped, fmt.Errorf("inventory still invalid after %d repair rounds", repairLimit)
}

// drop removes what one violation complains about. Additional properties are removed one by
// one; a missing required key drops its object (an array entry, or e.g. a half timezone);
// any other violation drops the value itself.
func drop(doc any, v invschema.Violation) (string, string, error) {
	loc := v.Location
	what := v.Message
	switch v.Kind {
	case invschema.KindAdditionalProperties:
		o, ok := lookup(doc, loc).(map[string]any)
		if !ok {
			return "", "", nil
		}
		var names []string
		for _, p := range v.Names {
			if _, ok := o[p]; ok {
				o[p] = tombstone{}
				names = append(names, p)
			}
		}
		if len(names) == 0 {
			return "", "", nil
		}
		if len(loc) < 1 {
			// Unknown top-level keys are ours to fix in code, not data.
			return "", "", fmt.Errorf("inventory message has keys outside the schema: %s", strings.Join(names, ", "))
		}
		return pointer(loc) + "/{" + strings.Join(names, ",") + "}", "not in the schema", nil
	case invschema.KindRequired:
		if len(loc) < 2 {
			return "", "", fmt.Errorf("inventory is missing %s at %q", strings.Join(v.Names, ", "), pointer(loc))
		}
	}
	if len(loc) < 2 {
		return "", "", fmt.Errorf("inventory cannot be repaired: %s at %q", what, pointer(loc))
	}
	parent := lookup(doc, loc[:len(loc)-1])
	last := loc[len(loc)-1]
	switch p := parent.(type) {
	case map[string]any:
		if _, ok := p[last].(tombstone); ok {
			return "", "", nil
		}
		if _, ok := p[last]; !ok {
			return "", "", nil
		}
		p[last] = tombstone{}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(p) {
			return "", "", nil
		}
		if _, ok := p[i].(tombstone); ok {
			return "", "", nil
		}
		p[i] = tombstone{}
	default:
		return "", "", nil
	}
	return pointer(loc), what, nil
}

func lookup(doc any, loc []string) any {
	cur := doc
	for _, k := range loc {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// compact removes tombstones, and arrays and objects left empty by them.
func compact(v any) any {
	switch c := v.(type) {
	case map[string]any:
		for k, x := range c {
			if _, ok := x.(tombstone); ok {
				delete(c, k)
				continue
			}
			n := compact(x)
			if n == nil {
				delete(c, k)
			} else {
				c[k] = n
			}
		}
		return c
	case []any:
		out := c[:0]
		removed := false
		for _, x := range c {
			if _, ok := x.(tombstone); ok {
				removed = true
				continue
			}
			out = append(out, compact(x))
		}
		if removed && len(out) == 0 {
			return nil
		}
		for i := len(out); i < len(c); i++ {
			c[i] = nil
		}
		return out
	}
	return v
}

func pointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	return "/" + strings.Join(loc, "/")
}

// toGeneric turns an encodable value into the generic JSON the validator wants, keeping
// integers exact.
func toGeneric(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return invschema.Decode(bytes.NewReader(raw))
}

// sortedKeys lists an object's keys.
func sortedKeys(m map[string]any) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
