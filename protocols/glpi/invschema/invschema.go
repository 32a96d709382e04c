// Package invschema validates a generic JSON document against GLPI's inventory_format schemas.
// It implements the subset of JSON Schema (draft-07) those schemas use — type, properties,
// required, additionalProperties, items, pattern, format ipv4/ipv6, minimum, maximum, local
// $ref, anyOf, oneOf — and refuses a schema that uses any other validation keyword, so a new
// schema version cannot be silently half-checked. A full JSON Schema library costs the agent
// 1.3 MB of binary and 14 ms of start-up; the GLPI fake server validates with one, so the tests
// cross-check this package against a complete implementation.
package invschema

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Kinds of violation; the GLPI adapter repairs a document by kind.
const (
	KindType                 = "type"
	KindRequired             = "required"
	KindAdditionalProperties = "additionalProperties"
	KindPattern              = "pattern"
	KindFormat               = "format"
	KindMinimum              = "minimum"
	KindMaximum              = "maximum"
	KindAnyOf                = "anyOf"
	KindOneOf                = "oneOf"
)

// Violation is one failed check at an instance location (object keys and array indexes).
type Violation struct {
	Location []string
	Kind     string
	// Names are the missing keys (required) or the keys outside the schema (additionalProperties).
	Names   []string
	Message string
}

func (v Violation) String() string {
	return "/" + strings.Join(v.Location, "/") + ": " + v.Message
}

// Schema is a compiled schema document.
type Schema struct {
	root *node
}

type node struct {
	types      []string // empty: any
	properties map[string]*node
	required   []string
	closed     bool // additionalProperties: false
	items      *node
	pattern    *regexp.Regexp
	format     string
	min, max   *big.Rat
	anyOf      []*node
	oneOf      []*node
	ref        string
	refNode    *node
}

// annotation reports keywords that carry no validation and are skipped; misplaced property
// definitions found in GLPI's schema (an object named "mac" beside "type") are unknown
// keywords, ignored as JSON Schema requires. (Switches, not package-level maps: no code runs
// at the agent's start.)
func annotation(k string) bool {
	switch k {
	case "$schema", "$id", "$comment", "title", "description", "examples", "default", "definitions",
		"version":
		return true
	}
	return false
}

// unsupported reports validation keywords this package does not implement.
func unsupported(k string) bool {
	switch k {
	case "enum", "const", "multipleOf", "exclusiveMinimum", "exclusiveMaximum", "minLength",
		"maxLength", "minItems", "maxItems", "uniqueItems", "contains", "maxProperties", "minProperties",
		"patternProperties", "dependencies", "propertyNames", "if", "then", "else", "allOf", "not",
		"additionalItems", "contentMediaType", "$defs", "dependentRequired", "dependentSchemas",
		"unevaluatedProperties", "unevaluatedItems":
		return true
	}
	return false
}

// Compile parses a schema document.
func Compile(raw []byte) (*Schema, error) {
	doc, err := Decode(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("invschema: %w", err)
	}
	c := &compiler{doc: doc, byRef: map[string]*node{}}
	root, err := c.compile(doc, "#")
	if err != nil {
		return nil, err
	}
	// Resolving a $ref may compile new nodes with refs of their own: c.refs grows as we go.
	for i := 0; i < len(c.refs); i++ {
		t, err := c.resolve(c.refs[i].ref)
		if err != nil {
			return nil, err
		}
		c.refs[i].refNode = t
	}
	return &Schema{root: root}, nil
}

type compiler struct {
	doc   any
	byRef map[string]*node // compiled nodes by their "#/..." location
	refs  []*node          // nodes with a $ref to resolve
}

func (c *compiler) compile(v any, at string) (*node, error) {
	if b, ok := v.(bool); ok {
		if !b {
			return nil, fmt.Errorf("invschema: %s: the false schema is not supported", at)
		}
		return &node{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("invschema: %s: a schema must be an object", at)
	}
	n := &node{}
	for _, k := range sortedKeys(m) {
		val := m[k]
		here := at + "/" + k
		switch {
		case annotation(k):
		case unsupported(k):
			return nil, fmt.Errorf("invschema: %s: keyword %q is not supported", at, k)
		case k == "type":
			switch t := val.(type) {
			case string:
				n.types = []string{t}
			case []any:
				for _, x := range t {
					s, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("invschema: %s: type list holds a non-string", here)
					}
					n.types = append(n.types, s)
				}
			default:
				return nil, fmt.Errorf("invschema: %s: type must be a string or a list", here)
			}
			for _, t := range n.types {
				switch t {
				case "object", "array", "string", "integer", "number", "boolean", "null":
				default:
					return nil, fmt.Errorf("invschema: %s: unknown type %q", here, t)
				}
			}
		case k == "properties":
			props, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("invschema: %s: properties must be an object", here)
			}
			n.properties = make(map[string]*node, len(props))
			for _, name := range sortedKeys(props) {
				p, err := c.compile(props[name], here+"/"+escape(name))
				if err != nil {
					return nil, err
				}
				n.properties[name] = p
			}
		case k == "required":
			list, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("invschema: %s: required must be a list", here)
			}
			for _, x := range list {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("invschema: %s: required holds a non-string", here)
				}
				n.required = append(n.required, s)
			}
		case k == "additionalProperties":
			b, ok := val.(bool)
			if !ok {
				return nil, fmt.Errorf("invschema: %s: only a boolean additionalProperties is supported", here)
			}
			n.closed = !b
		case k == "items":
			if _, ok := val.([]any); ok {
				return nil, fmt.Errorf("invschema: %s: tuple items are not supported", here)
			}
			it, err := c.compile(val, here)
			if err != nil {
				return nil, err
			}
			n.items = it
		case k == "pattern":
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("invschema: %s: pattern must be a string", here)
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("invschema: %s: pattern: %w", here, err)
			}
			n.pattern = re
		case k == "format":
			s, _ := val.(string)
			switch s {
			case "ipv4", "ipv6":
				n.format = s
			default:
				return nil, fmt.Errorf("invschema: %s: format %v is not supported", here, val)
			}
		case k == "minimum" || k == "maximum":
			num, ok := val.(json.Number)
			if !ok {
				return nil, fmt.Errorf("invschema: %s: %s must be a number", here, k)
			}
			r, ok := new(big.Rat).SetString(num.String())
			if !ok {
				return nil, fmt.Errorf("invschema: %s: %s %q is not a number", here, k, num)
			}
			if k == "minimum" {
				n.min = r
			} else {
				n.max = r
			}
		case k == "anyOf" || k == "oneOf":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("invschema: %s: %s must be a non-empty list", here, k)
			}
			for i, x := range list {
				sub, err := c.compile(x, here+"/"+strconv.Itoa(i))
				if err != nil {
					return nil, err
				}
				if k == "anyOf" {
					n.anyOf = append(n.anyOf, sub)
				} else {
					n.oneOf = append(n.oneOf, sub)
				}
			}
		case k == "$ref":
			s, ok := val.(string)
			if !ok || !strings.HasPrefix(s, "#") {
				return nil, fmt.Errorf("invschema: %s: only local $ref (#/...) is supported, got %v", here, val)
			}
			n.ref = s
			c.refs = append(c.refs, n)
		default:
			// Unknown keywords are ignored (JSON Schema), e.g. property definitions misplaced
			// beside "type" in GLPI's schema.
		}
	}
	c.byRef[at] = n
	return n, nil
}

// resolve finds the node compiled at a "#/a/b" pointer, compiling it if the walk did not reach
// it (definitions are reached only through $ref: "definitions" is skipped as an annotation).
func (c *compiler) resolve(ref string) (*node, error) {
	if n, ok := c.byRef[ref]; ok {
		return n, nil
	}
	cur := c.doc
	if ref != "#" {
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("invschema: $ref %s does not resolve", ref)
			}
			if cur, ok = m[part]; !ok {
				return nil, fmt.Errorf("invschema: $ref %s does not resolve", ref)
			}
		}
	}
	return c.compile(cur, ref)
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Decode reads one JSON document the way Validate expects it: numbers as json.Number, so
// integers stay exact.
func Decode(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode JSON: trailing data after the document")
	}
	return v, nil
}

// Validate checks doc (from Decode) and returns every violation, leaves first: a failed anyOf
// or oneOf is one violation at its location, not the failures of each branch.
func (s *Schema) Validate(doc any) []Violation {
	var out []Violation
	validate(s.root, doc, nil, &out, 0)
	return out
}

// maxDepth bounds recursion on a hostile document or a self-referencing schema.
const maxDepth = 64

func validate(n *node, v any, loc []string, out *[]Violation, depth int) {
	if depth > maxDepth {
		*out = append(*out, Violation{Location: clone(loc), Kind: KindType, Message: "document nested too deeply"})
		return
	}
	if n.refNode != nil {
		validate(n.refNode, v, loc, out, depth+1)
	}
	if len(n.types) > 0 && !typeMatches(n.types, v) {
		*out = append(*out, Violation{Location: clone(loc), Kind: KindType,
			Message: fmt.Sprintf("got %s, want %s", typeName(v), strings.Join(n.types, " or "))})
		return
	}
	switch x := v.(type) {
	case map[string]any:
		var missing []string
		for _, r := range n.required {
			if _, ok := x[r]; !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindRequired, Names: missing,
				Message: "missing properties: " + strings.Join(missing, ", ")})
		}
		var extra []string
		for _, k := range sortedKeys(x) {
			p, ok := n.properties[k]
			if !ok {
				if n.closed {
					extra = append(extra, k)
				}
				continue
			}
			validate(p, x[k], append(loc, k), out, depth+1)
		}
		if len(extra) > 0 {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindAdditionalProperties, Names: extra,
				Message: "additional properties not allowed: " + strings.Join(extra, ", ")})
		}
	case []any:
		if n.items != nil {
			for i, e := range x {
				validate(n.items, e, append(loc, strconv.Itoa(i)), out, depth+1)
			}
		}
	case string:
		if n.pattern != nil && !n.pattern.MatchString(x) {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindPattern,
				Message: fmt.Sprintf("%q does not match %s", x, n.pattern)})
		}
		if n.format != "" && !formatOK(n.format, x) {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindFormat,
				Message: fmt.Sprintf("%q is not an %s address", x, n.format)})
		}
	case json.Number:
		if n.min != nil || n.max != nil {
			r, ok := new(big.Rat).SetString(x.String())
			switch {
			case !ok:
			case n.min != nil && r.Cmp(n.min) < 0:
				*out = append(*out, Violation{Location: clone(loc), Kind: KindMinimum, Message: fmt.Sprintf("%s is below the minimum %s", x, n.min.RatString())})
			case n.max != nil && r.Cmp(n.max) > 0:
				*out = append(*out, Violation{Location: clone(loc), Kind: KindMaximum, Message: fmt.Sprintf("%s is above the maximum %s", x, n.max.RatString())})
			}
		}
	}
	if len(n.anyOf) > 0 {
		ok := false
		for _, b := range n.anyOf {
			if valid(b, v, depth+1) {
				ok = true
				break
			}
		}
		if !ok {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindAnyOf, Message: "matches none of the allowed forms"})
		}
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, b := range n.oneOf {
			if valid(b, v, depth+1) {
				matched++
			}
		}
		if matched != 1 {
			*out = append(*out, Violation{Location: clone(loc), Kind: KindOneOf, Message: fmt.Sprintf("matches %d of the forms, want exactly one", matched)})
		}
	}
}

func valid(n *node, v any, depth int) bool {
	var out []Violation
	validate(n, v, nil, &out, depth)
	return len(out) == 0
}

func typeMatches(types []string, v any) bool {
	got := typeName(v)
	for _, t := range types {
		if t == got || (t == "number" && got == "integer") {
			return true
		}
	}
	return false
}

// typeName is the JSON type of a decoded value; a number with no fractional part is an integer
// (1.0 too, as draft-07 says).
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		r, ok := new(big.Rat).SetString(x.String())
		if ok && r.IsInt() {
			return "integer"
		}
		return "number"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case int, int64:
		return "integer"
	}
	return fmt.Sprintf("%T", v)
}

func formatOK(format, s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return false
	}
	if format == "ipv4" {
		return a.Is4()
	}
	return a.Is6()
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

func clone(loc []string) []string { return append([]string(nil), loc...) }
