package shutdown

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// A minimal D-Bus client, just enough to ask systemd's manager two questions over its private
// peer-to-peer socket (/run/systemd/private, root only): SystemState and ListJobs. A full
// D-Bus library is not in go.mod and cgo is off; this is the same wire format systemctl uses.

const (
	msgMethodCall   = 1
	msgMethodReturn = 2
	msgError        = 3

	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSignature   = 8
)

// wire encodes D-Bus values; offsets count from the message start, as alignment does.
type wire struct {
	b  []byte
	bo binary.AppendByteOrder
}

func (w *wire) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *wire) u32(v uint32) {
	w.align(4)
	w.b = w.bo.AppendUint32(w.b, v)
}

func (w *wire) str(s string) { // "s" and "o"
	w.u32(uint32(len(s)))
	w.b = append(append(w.b, s...), 0)
}

func (w *wire) sig(s string) { // "g"
	w.b = append(append(append(w.b, byte(len(s))), s...), 0)
}

type field struct {
	code byte
	sig  string // "s", "o", "g" or "u"
	s    string
	u    uint32
}

// message encodes a whole message: the fixed header, the fields and the body (already encoded,
// starting at an 8-aligned offset).
func message(bo binary.AppendByteOrder, typ byte, serial uint32, fields []field, body []byte) []byte {
	w := &wire{bo: bo}
	e := byte('l')
	if bo == binary.BigEndian {
		e = 'B'
	}
	w.b = append(w.b, e, typ, 0, 1)
	w.u32(uint32(len(body)))
	w.u32(serial)
	w.u32(0) // fields length, patched below
	start := len(w.b)
	for _, f := range fields {
		w.align(8)
		w.b = append(w.b, f.code)
		w.sig(f.sig)
		switch f.sig {
		case "u":
			w.u32(f.u)
		case "g":
			w.sig(f.s)
		default:
			w.str(f.s)
		}
	}
	bo.(binary.ByteOrder).PutUint32(w.b[12:], uint32(len(w.b)-start))
	w.align(8)
	return append(w.b, body...)
}

// reader decodes D-Bus values.
type reader struct {
	b   []byte
	off int
	bo  binary.ByteOrder
}

var errShort = errors.New("d-bus: message truncated")

func (r *reader) align(n int) error {
	for r.off%n != 0 {
		r.off++
	}
	if r.off > len(r.b) {
		return errShort
	}
	return nil
}

func (r *reader) u32() (uint32, error) {
	if err := r.align(4); err != nil {
		return 0, err
	}
	if r.off+4 > len(r.b) {
		return 0, errShort
	}
	v := r.bo.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *reader) str() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if int(n) > len(r.b)-r.off-1 {
		return "", errShort
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n) + 1
	return s, nil
}

func (r *reader) sig() (string, error) {
	if r.off >= len(r.b) {
		return "", errShort
	}
	n := int(r.b[r.off])
	if r.off+1+n+1 > len(r.b) {
		return "", errShort
	}
	s := string(r.b[r.off+1 : r.off+1+n])
	r.off += n + 2
	return s, nil
}

// reply is a decoded METHOD_RETURN or ERROR.
type reply struct {
	typ         byte
	serial      uint32
	member      string
	replySerial uint32
	signature   string
	errName     string
	body        reader
}

const maxMessage = 1 << 20

// readMessage reads one message from br.
func readMessage(br *bufio.Reader) (*reply, error) {
	fixed := make([]byte, 16)
	if _, err := io.ReadFull(br, fixed); err != nil {
		return nil, fmt.Errorf("d-bus: read header: %w", err)
	}
	var bo binary.ByteOrder
	switch fixed[0] {
	case 'l':
		bo = binary.LittleEndian
	case 'B':
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("d-bus: bad endianness byte %q", fixed[0])
	}
	bodyLen, fieldsLen := bo.Uint32(fixed[4:]), bo.Uint32(fixed[12:])
	if bodyLen > maxMessage || fieldsLen > maxMessage {
		return nil, errors.New("d-bus: message too large")
	}
	hdrEnd := 16 + int(fieldsLen)
	padded := (hdrEnd + 7) &^ 7
	rest := make([]byte, padded-16+int(bodyLen))
	if _, err := io.ReadFull(br, rest); err != nil {
		return nil, fmt.Errorf("d-bus: read message: %w", err)
	}
	msg := append(fixed, rest...)
	m := &reply{typ: fixed[1], serial: bo.Uint32(fixed[8:])}
	r := &reader{b: msg[:hdrEnd], off: 16, bo: bo}
	for r.off < hdrEnd {
		if err := r.align(8); err != nil || r.off >= hdrEnd {
			break
		}
		code := r.b[r.off]
		r.off++
		s, err := r.sig()
		if err != nil {
			return nil, err
		}
		switch s {
		case "u":
			v, err := r.u32()
			if err != nil {
				return nil, err
			}
			if code == fieldReplySerial {
				m.replySerial = v
			}
		case "g":
			v, err := r.sig()
			if err != nil {
				return nil, err
			}
			if code == fieldSignature {
				m.signature = v
			}
		case "s", "o":
			v, err := r.str()
			if err != nil {
				return nil, err
			}
			switch code {
			case fieldErrorName:
				m.errName = v
			case fieldMember:
				m.member = v
			}
		default:
			return nil, fmt.Errorf("d-bus: unexpected header field type %q", s)
		}
	}
	m.body = reader{b: msg[padded:], bo: bo}
	return m, nil
}

// systemdConn is an authenticated connection to systemd's private socket.
type systemdConn struct {
	c      net.Conn
	br     *bufio.Reader
	serial uint32
}

func dialSystemd(ctx context.Context, path string, uid int) (*systemdConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(2 * time.Second)
	}
	_ = c.SetDeadline(dl)
	sc := &systemdConn{c: c, br: bufio.NewReader(c)}
	// AUTH and BEGIN in one write, before the server's OK, as systemctl (sd-bus) does: systemd's
	// sd-bus server does not look at bytes that arrive in the same read as BEGIN until more
	// come, so a BEGIN sent after OK and followed at once by the call left the call unanswered
	// (seen on a real systemd 252: every query timed out and the detector fell back).
	auth := "\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(uid))) + "\r\nBEGIN\r\n"
	if _, err := io.WriteString(c, auth); err != nil {
		c.Close()
		return nil, fmt.Errorf("d-bus: auth: %w", err)
	}
	line, err := sc.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "OK ") {
		c.Close()
		return nil, fmt.Errorf("d-bus: auth refused: %q %v", strings.TrimSpace(line), err)
	}
	return sc, nil
}

func (sc *systemdConn) Close() error { return sc.c.Close() }

// call sends a method call to systemd's manager object and waits for its answer.
func (sc *systemdConn) call(iface, member, sig string, body []byte) (*reply, error) {
	sc.serial++
	fields := []field{
		{code: fieldPath, sig: "o", s: "/org/freedesktop/systemd1"},
		{code: fieldInterface, sig: "s", s: iface},
		{code: fieldMember, sig: "s", s: member},
		{code: fieldDestination, sig: "s", s: "org.freedesktop.systemd1"},
	}
	if sig != "" {
		fields = append(fields, field{code: fieldSignature, sig: "g", s: sig})
	}
	if _, err := sc.c.Write(message(binary.LittleEndian, msgMethodCall, sc.serial, fields, body)); err != nil {
		return nil, fmt.Errorf("d-bus: send %s: %w", member, err)
	}
	for range 64 { // skip signals and stray messages
		m, err := readMessage(sc.br)
		if err != nil {
			return nil, err
		}
		if m.replySerial != sc.serial || (m.typ != msgMethodReturn && m.typ != msgError) {
			continue
		}
		if m.typ == msgError {
			return nil, fmt.Errorf("d-bus: %s: %s", member, m.errName)
		}
		return m, nil
	}
	return nil, fmt.Errorf("d-bus: no answer to %s", member)
}

// systemState asks the manager's SystemState property ("running", "degraded", "stopping"...).
func (sc *systemdConn) systemState() (string, error) {
	w := &wire{bo: binary.LittleEndian}
	w.str("org.freedesktop.systemd1.Manager")
	w.str("SystemState")
	m, err := sc.call("org.freedesktop.DBus.Properties", "Get", "ss", w.b)
	if err != nil {
		return "", err
	}
	if m.signature != "v" {
		return "", fmt.Errorf("d-bus: Get returned signature %q", m.signature)
	}
	if s, err := m.body.sig(); err != nil || s != "s" {
		return "", fmt.Errorf("d-bus: SystemState is %q, want a string (%v)", s, err)
	}
	return m.body.str()
}

// job is one queued systemd job.
type job struct{ unit, typ string }

// listJobs lists the manager's job queue.
func (sc *systemdConn) listJobs() ([]job, error) {
	m, err := sc.call("org.freedesktop.systemd1.Manager", "ListJobs", "", nil)
	if err != nil {
		return nil, err
	}
	if m.signature != "a(usssoo)" {
		return nil, fmt.Errorf("d-bus: ListJobs returned signature %q", m.signature)
	}
	r := &m.body
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if err := r.align(8); err != nil {
		return nil, err
	}
	end := r.off + int(n)
	if end > len(r.b) {
		return nil, errShort
	}
	var jobs []job
	for r.off < end {
		if err := r.align(8); err != nil {
			return nil, err
		}
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		var v [5]string
		for i := range v {
			if v[i], err = r.str(); err != nil {
				return nil, err
			}
		}
		jobs = append(jobs, job{unit: v[0], typ: v[1]})
	}
	return jobs, nil
}
