package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// WriteJSON writes inv as JSON indented by two spaces, byte for byte what json.MarshalIndent
// gives plus a newline. encoding/json indents by running its validating scanner over every
// byte of the compact encoding into a second buffer (a third of the command's CPU for a large
// inventory); the compact encoding is ours, so indenting it only has to track strings, and it
// streams through a small buffer instead. The list fields are encoded an element at a time, so
// the encoder's buffer holds one package or process, not the whole model (its growth to half a
// megabyte was most of the command's garbage). On an encoding error the output is partial.
func WriteJSON(w io.Writer, inv *Inventory) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	iw := &indentWriter{w: bw}
	enc := json.NewEncoder(iw)
	v := reflect.ValueOf(inv).Elem()
	var err error
	if streamable(v.Type()) {
		err = encodeFields(enc, iw, v)
	} else {
		err = enc.Encode(inv)
	}
	if err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	bw.WriteByte('\n')
	if iw.err != nil {
		return fmt.Errorf("write inventory: %w", iw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}

// streamable reports whether encodeFields encodes t as encoding/json does: exported fields
// with plain names, omitempty only on lists.
func streamable(t reflect.Type) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" ||
			(opts != "" && (opts != "omitempty" || f.Type.Kind() != reflect.Slice)) {
			return false
		}
	}
	return true
}

// encodeFields writes the struct v field by field and its list fields element by element.
func encodeFields(enc *json.Encoder, iw *indentWriter, v reflect.Value) error {
	t := v.Type()
	iw.Write([]byte("{"))
	first := true
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if opts == "omitempty" && fv.Len() == 0 {
			continue
		}
		if !first {
			iw.Write([]byte(","))
		}
		first = false
		iw.Write([]byte(`"` + name + `":`))
		if fv.Kind() != reflect.Slice || fv.IsNil() {
			// Through a pointer: no copy of the struct, and the same methods as in place.
			if err := enc.Encode(fv.Addr().Interface()); err != nil {
				return err
			}
			continue
		}
		iw.Write([]byte("["))
		for j := range fv.Len() {
			if j > 0 {
				iw.Write([]byte(","))
			}
			if err := enc.Encode(fv.Index(j).Addr().Interface()); err != nil {
				return err
			}
		}
		iw.Write([]byte("]"))
	}
	iw.Write([]byte("}"))
	return nil
}

// indentWriter re-indents valid compact JSON (what encoding/json writes) as json.Indent does
// with an empty prefix and a two-space indent, dropping the newline json.Encoder ends each
// value with. Its state carries across Write calls.
type indentWriter struct {
	w          *bufio.Writer
	err        error
	depth      int
	inString   bool
	escaped    bool // the previous byte was a backslash inside a string
	needIndent bool // an object or array opened: indent before its first element, none if empty
}

// spaces indents the usual depths with one write.
const spaces = "                                                                " // 64

func (iw *indentWriter) newline() {
	iw.w.WriteByte('\n')
	for n := 2 * iw.depth; n > 0; n -= len(spaces) {
		iw.w.WriteString(spaces[:min(n, len(spaces))])
	}
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	if iw.err != nil {
		return 0, iw.err
	}
	n := len(p)
	for len(p) > 0 {
		if iw.inString {
			if iw.escaped {
				iw.w.WriteByte(p[0])
				p, iw.escaped = p[1:], false
				continue
			}
			q := bytes.IndexByte(p, '"')
			seg := p
			if q >= 0 {
				seg = p[:q]
			}
			if b := bytes.IndexByte(seg, '\\'); b >= 0 {
				iw.w.Write(p[:b+1])
				p, iw.escaped = p[b+1:], true
				continue
			}
			if q < 0 {
				iw.w.Write(p)
				break
			}
			iw.w.Write(p[:q+1])
			p, iw.inString = p[q+1:], false
			continue
		}
		c := p[0]
		p = p[1:]
		if c == '\n' {
			continue
		}
		if iw.needIndent && c != '}' && c != ']' {
			iw.needIndent = false
			iw.depth++
			iw.newline()
		}
		switch c {
		case '"':
			iw.inString = true
			iw.w.WriteByte(c)
		case '{', '[':
			iw.needIndent = true // an empty object or array stays {} or []
			iw.w.WriteByte(c)
		case '}', ']':
			if iw.needIndent {
				iw.needIndent = false
			} else {
				iw.depth--
				iw.newline()
			}
			iw.w.WriteByte(c)
		case ',':
			iw.w.WriteByte(c)
			iw.newline()
		case ':':
			iw.w.WriteString(": ")
		default:
			iw.w.WriteByte(c)
		}
	}
	// bufio.Writer keeps its first error and returns it from every later call.
	if _, err := iw.w.Write(nil); err != nil {
		iw.err = err
		return 0, err
	}
	return n, nil
}
