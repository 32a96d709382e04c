package inventory

import (
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
	iw := &indentWriter{w: w}
	enc := json.NewEncoder(iw)
	v := reflect.ValueOf(inv).Elem()
	var err error
	if streamable(v.Type()) {
		err = encodeFields(enc, iw, v)
	} else {
		err = enc.Encode(inv)
	}
	if err != nil {
		if iw.err != nil {
			return fmt.Errorf("write inventory: %w", iw.err)
		}
		return fmt.Errorf("encode inventory: %w", err)
	}
	iw.buf = append(iw.buf, '\n')
	if err := iw.flush(); err != nil {
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
		if reflect.PointerTo(fv.Type().Elem()).Implements(reflect.TypeFor[jsonAppender]()) {
			if err := appendList(iw, fv); err != nil {
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

// appendList writes a list member's value (after its key) whose elements encode themselves
// indented: straight into the indenter's buffer, in the layout it would have produced.
func appendList(iw *indentWriter, list reflect.Value) error {
	if iw.err != nil {
		return iw.err
	}
	if iw.buf == nil {
		iw.buf = make([]byte, 0, indentFlushAt+4<<10)
	}
	if list.Len() == 0 {
		iw.buf = append(iw.buf, '[', ']')
		return nil
	}
	iw.buf = append(iw.buf, '[')
	for j := range list.Len() {
		if j > 0 {
			iw.buf = append(iw.buf, ',')
		}
		iw.buf = appendNewline(iw.buf, iw.depth+1)
		b, err := list.Index(j).Addr().Interface().(jsonAppender).appendJSON(iw.buf, iw.depth+1)
		if err != nil {
			return err
		}
		iw.buf = b
		if len(iw.buf) >= indentFlushAt && iw.flush() != nil {
			return iw.err
		}
	}
	iw.buf = appendNewline(iw.buf, iw.depth)
	iw.buf = append(iw.buf, ']')
	return nil
}

// indentWriter re-indents valid compact JSON (what encoding/json writes) as json.Indent does
// with an empty prefix and a two-space indent, dropping the newline json.Encoder ends each
// value with. Its state carries across Write calls; it buffers up to 32 KiB (flush).
type indentWriter struct {
	w          io.Writer
	buf        []byte
	err        error
	depth      int
	inString   bool
	escaped    bool // the previous byte was a backslash inside a string
	needIndent bool // an object or array opened: indent before its first element, none if empty
}

const indentFlushAt = 32 << 10

// spaces indents the usual depths with one append.
const spaces = "                                                                " // 64

// appendNewline starts a line indented to depth.
func appendNewline(buf []byte, depth int) []byte {
	buf = append(buf, '\n')
	for n := 2 * depth; n > 0; n -= len(spaces) {
		buf = append(buf, spaces[:min(n, len(spaces))]...)
	}
	return buf
}

// flush writes out what is buffered.
func (iw *indentWriter) flush() error {
	if iw.err == nil && len(iw.buf) > 0 {
		_, iw.err = iw.w.Write(iw.buf)
	}
	iw.buf = iw.buf[:0]
	return iw.err
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	if iw.err != nil {
		return 0, iw.err
	}
	if iw.buf == nil {
		iw.buf = make([]byte, 0, indentFlushAt+4<<10)
	}
	// The state lives in locals for the loop: a third faster than through iw.
	buf, depth, inString, escaped, needIndent := iw.buf, iw.depth, iw.inString, iw.escaped, iw.needIndent
	start := 0 // p[start:i] is still to be appended as is
	for i := 0; i < len(p); i++ {
		c := p[i]
		if inString {
			if escaped {
				escaped = false
				continue
			}
			// Most string bytes need nothing: skip them in a tight loop.
			for c != '"' && c != '\\' {
				if i++; i == len(p) {
					break
				}
				c = p[i]
			}
			if i == len(p) {
				break
			}
			if c == '\\' {
				escaped = true
			} else {
				inString = false
			}
			continue
		}
		if c == '\n' {
			buf = append(buf, p[start:i]...)
			start = i + 1
			continue
		}
		if needIndent && c != '}' && c != ']' {
			buf = append(buf, p[start:i]...)
			start = i
			needIndent = false
			depth++
			buf = appendNewline(buf, depth)
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			needIndent = true // an empty object or array stays {} or []
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				buf = append(buf, p[start:i]...)
				start = i
				depth--
				buf = appendNewline(buf, depth)
			}
		case ',':
			buf = append(buf, p[start:i+1]...)
			start = i + 1
			buf = appendNewline(buf, depth)
			if len(buf) >= indentFlushAt {
				iw.buf = buf
				if iw.flush() != nil {
					return 0, iw.err
				}
				buf = iw.buf
			}
		case ':':
			buf = append(buf, p[start:i+1]...)
			buf = append(buf, ' ')
			start = i + 1
		}
	}
	buf = append(buf, p[start:]...)
	iw.buf, iw.depth, iw.inString, iw.escaped, iw.needIndent = buf, depth, inString, escaped, needIndent
	if len(iw.buf) >= indentFlushAt && iw.flush() != nil {
		return 0, iw.err
	}
	return len(p), nil
}
