package action

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// SignedString returns the exact bytes investigators sign (shared/protocols/mig.md §4.2):
//
//	name=<NAME>;target=<TARGET>;validfrom=<VF>;expireafter=%!s(int64=<EA>);operations=<OPS>;
//
// NAME and TARGET raw, VF and EA Unix seconds, and OPS the compact JSON of the operations with
// parameters re-encoded from a generic decode (sorted keys, float64 numbers), U+0008/U+000C
// written \u0008/\u000c as the MIG-era signers did. The "%!s(int64=…)" is a Go formatting
// artefact frozen into MIG's protocol.
func SignedString(a *Action) ([]byte, error) {
	return signedString(a, true)
}

// signedString builds the signed string; legacy selects \u0008/\u000c over Go ≥ 1.22's \b/\f.
func signedString(a *Action, legacy bool) ([]byte, error) {
	if a == nil {
		return nil, errors.New("signed string: nil action")
	}
	ops, err := operationsJSON(a.Operations)
	if err != nil {
		return nil, err
	}
	if legacy {
		ops = legacyEscapes(ops)
	}
	var b bytes.Buffer
	b.Grow(len(a.Name) + len(a.Target) + len(ops) + 80)
	fmt.Fprintf(&b, "name=%s;target=%s;validfrom=%d;expireafter=%%!s(int64=%d);operations=",
		a.Name, a.Target, a.ValidFrom.UTC().Unix(), a.ExpireAfter.UTC().Unix())
	b.Write(ops)
	b.WriteByte(';')
	return b.Bytes(), nil
}

// operationsJSON encodes the operations as MIG does: MIG's client signs an action after a
// round trip through a file, so parameters are always a generic decode; we normalise typed
// parameters the same way before encoding.
func operationsJSON(ops []Operation) ([]byte, error) {
	norm := ops
	if ops != nil {
		norm = make([]Operation, len(ops))
		for i, op := range ops {
			p, err := generic(op.Parameters)
			if err != nil {
				return nil, fmt.Errorf("signed string: operation %d (%s) parameters: %w", i, op.Module, err)
			}
			op.Parameters = p
			norm[i] = op
		}
	}
	out, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("signed string: encode operations: %w", err)
	}
	return out, nil
}

// generic turns v into what encoding/json's decode into `any` gives, unless it already is.
func generic(v any) (any, error) {
	switch v.(type) {
	case nil, string, bool, float64:
		return v, nil
	}
	if isGeneric(v) {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return g, nil
}

func isGeneric(v any) bool {
	switch t := v.(type) {
	case nil, string, bool, float64:
		return true
	case []any:
		for _, e := range t {
			if !isGeneric(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range t {
			if !isGeneric(e) {
				return false
			}
		}
		return true
	}
	return false
}

// legacyEscapes rewrites the \b and \f escapes of encoding/json output as \u0008 and \u000c.
// Backslashes occur in encoder output only as escape introducers, so a two-byte scan is exact
// (an escaped backslash "\\" is consumed whole).
func legacyEscapes(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\b`)) && !bytes.Contains(b, []byte(`\f`)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			out = append(out, `\u0008`...)
		case 'f':
			out = append(out, `\u000c`...)
		default:
			out = append(out, '\\', b[i])
		}
	}
	return out
}
