package invschema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var schemaFiles = []string{"inventory.schema.json", "inventory.schema.strict-1.1.32.json"}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reference compiles a schema with a complete JSON Schema implementation.
func reference(t testing.TB, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://example.invalid/inventory.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://example.invalid/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type pair struct {
	name string
	ours *Schema
	ref  *jsonschema.Schema
}

func pairs(t testing.TB) []pair {
	var out []pair
	for _, f := range schemaFiles {
		raw := readTestdata(t, f)
		ours, err := Compile(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, pair{f, ours, reference(t, raw)})
	}
	return out
}

// agree checks that both validators give the same verdict on doc.
func agree(t *testing.T, ps []pair, doc []byte) {
	t.Helper()
	ours, err := Decode(bytes.NewReader(doc))
	if err != nil {
		return
	}
	theirs, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return
	}
	for _, p := range ps {
		v := p.ours.Validate(ours)
		refErr := p.ref.Validate(theirs)
		if (len(v) == 0) != (refErr == nil) {
			t.Fatalf("%s: verdicts differ on %s\nours: %v\nreference: %v", p.name, doc, v, refErr)
		}
	}
}

func TestExamplesAgree(t *testing.T) {
	ps := pairs(t)
	for _, ex := range []string{"computer_1.json", "computer_2.json", "computer_1_partial_softs.json"} {
		raw := readTestdata(t, ex)
		agree(t, ps, raw)
		doc, err := Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if v := ps[0].ours.Validate(doc); len(v) != 0 {
			t.Errorf("%s: GLPI's own example is invalid: %v", ex, v)
		}
	}
}

func TestViolations(t *testing.T) {
	s, err := Compile(readTestdata(t, "inventory.schema.strict-1.1.32.json"))
	if err != nil {
		t.Fatal(err)
	}
	base := `{"deviceid":"pc-2026-01-01-00-00-00","itemtype":"Computer","action":"inventory","content":{"versionclient":"omniagent",%s}}`
	tests := []struct {
		name, content string
		want          []Violation
	}{
		{"valid", `"bios":{"bdate":"2016-02-06","secure_boot":"enabled"}`, nil},
		{"integer as string", `"cpus":[{"core":"2"}]`, []Violation{{Location: []string{"content", "cpus", "0", "core"}, Kind: KindType}}},
		{"bad pattern", `"bios":{"secure_boot":"maybe"}`, []Violation{{Location: []string{"content", "bios", "secure_boot"}, Kind: KindPattern}}},
		{"bad date through $ref", `"bios":{"bdate":"06/02/2016"}`, []Violation{{Location: []string{"content", "bios", "bdate"}, Kind: KindPattern}}},
		{"unknown key", `"bios":{"colour":"red"}`, []Violation{{Location: []string{"content", "bios"}, Kind: KindAdditionalProperties, Names: []string{"colour"}}}},
		{"bad ipv4", `"networks":[{"description":"eth0","ipaddress":"300.1.1.1"}]`, []Violation{{Location: []string{"content", "networks", "0", "ipaddress"}, Kind: KindFormat}}},
		{"anyOf", `"network_ports":[{"ips":["not-an-ip"]}]`, nil}, // checked below by agreement
		{"maximum", `"network_ports":[{"ifstatus":9}]`, nil},
	}
	ps := pairs(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(strings.Replace(base, "%s", tt.content, 1))
			agree(t, ps, raw)
			if tt.want == nil && tt.name != "valid" {
				return
			}
			doc, err := Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Validate(doc)
			if len(got) != len(tt.want) {
				t.Fatalf("violations = %v, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if !slices.Equal(g.Location, w.Location) || g.Kind != w.Kind || !slices.Equal(g.Names, w.Names) || g.Message == "" {
					t.Errorf("violation %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestMissingRequired(t *testing.T) {
	s, err := Compile([]byte(`{"type":"object","required":["a","b"],"properties":{"a":{"type":"string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Validate(map[string]any{"a": "x"})
	if len(got) != 1 || got[0].Kind != KindRequired || !slices.Equal(got[0].Names, []string{"b"}) || len(got[0].Location) != 0 {
		t.Fatalf("violations = %+v", got)
	}
}

func TestCompileRefusesWhatItCannotCheck(t *testing.T) {
	tests := []struct{ schema, want string }{
		{`{"type":"string","enum":["a"]}`, `keyword "enum" is not supported`},
		{`{"properties":{"a":{"allOf":[{}]}}}`, `#/properties/a: keyword "allOf"`},
		{`{"format":"email"}`, "format email is not supported"},
		{`{"$ref":"https://elsewhere/schema.json"}`, "only local $ref"},
		{`{"$ref":"#/definitions/none"}`, "does not resolve"},
		{`{"pattern":"(unclosed"}`, "pattern"},
		{`{"type":"text"}`, `unknown type "text"`},
		{`{"additionalProperties":{"type":"string"}}`, "only a boolean additionalProperties"},
		{`[1,2]`, "a schema must be an object"},
		{`{"type":"string"} trailing`, "trailing data"},
	}
	for _, tt := range tests {
		_, err := Compile([]byte(tt.schema))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%s) = %v, want an error containing %q", tt.schema, err, tt.want)
		}
	}
}

func TestSelfReferenceIsBounded(t *testing.T) {
	s, err := Compile([]byte(`{"definitions":{"n":{"type":"array","items":{"$ref":"#/definitions/n"}}},"$ref":"#/definitions/n"}`))
	if err != nil {
		t.Fatal(err)
	}
	var deep any = []any{}
	for range 200 {
		deep = []any{deep}
	}
	if v := s.Validate(deep); len(v) != 1 || !strings.Contains(v[0].Message, "nested too deeply") {
		t.Fatalf("violations = %v", v)
	}
}

// FuzzAgreesWithJSONSchema mutates GLPI's example inventories and checks that this package and
// a complete JSON Schema implementation reach the same verdict, with both schemas.
func FuzzAgreesWithJSONSchema(f *testing.F) {
	for _, ex := range []string{"computer_1.json", "computer_2.json", "computer_1_partial_softs.json"} {
		f.Add(readTestdata(f, ex))
	}
	for _, s := range []string{
		`{"deviceid":"x","content":{"cpus":[{"core":2.5}]}}`,
		`{"deviceid":"x","content":{"networks":[{"ipaddress6":"::ffff:1.2.3.4"}]}}`,
		`{"deviceid":"x","content":{"modems":[{"imei":["1","2"]}]}}`,
		`{"deviceid":"x","content":{"virtualmachines":[{"ipaddress":"fe80::1%eth0"}]}}`,
		`{"deviceid":"x","content":{"network_ports":[{"ifstatus":1.0,"ifportduplex":0}]}}`,
		`{"deviceid":"x","content":{"operatingsystem":{"timezone":{"offset":"+0100"}}}}`,
	} {
		f.Add([]byte(s))
	}
	ps := pairs(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		agree(t, ps, doc)
	})
}

func BenchmarkValidate(b *testing.B) {
	raw := readTestdata(b, "computer_1.json")
	ps := pairs(b)
	ours, err := Decode(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	theirs, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("invschema", func(b *testing.B) {
		for b.Loop() {
			if v := ps[0].ours.Validate(ours); len(v) != 0 {
				b.Fatal(v)
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			if err := ps[0].ref.Validate(theirs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compile", func(b *testing.B) {
		schema := readTestdata(b, schemaFiles[0])
		for b.Loop() {
			if _, err := Compile(schema); err != nil {
				b.Fatal(err)
			}
		}
	})
}
