package pgp

import (
	"errors"
	"fmt"
)

// Packet tags (RFC 9580 §5).
const (
	tagSignature     = 2
	tagSecretKey     = 5
	tagPublicKey     = 6
	tagSecretSubkey  = 7
	tagMarker        = 10
	tagTrust         = 12
	tagUserID        = 13
	tagPublicSubkey  = 14
	tagUserAttribute = 17
)

// maxPacketBody bounds one key or signature packet. v4 key hashes carry a two-octet length,
// so a larger key packet cannot even be signed correctly.
const maxPacketBody = 0xffff

// errStricter marks refusals where go-crypto v1.4.1 would have accepted: see the package doc.
var errStricter = errors.New("stricter than go-crypto")

// Error prefixes kept from go-crypto: MIG's agent logs these texts and operators grep them.
const (
	structural  = "openpgp: invalid data: "
	unsupported = "openpgp: unsupported feature: "
)

func structuralf(format string, a ...any) error {
	return fmt.Errorf(structural+format, a...)
}

// stricterf builds a refusal go-crypto would not have made.
func stricterf(format string, a ...any) error {
	return &stricterError{msg: fmt.Sprintf(unsupported+format, a...)}
}

// stricterAs is such a refusal of kind sentinel (errors.Is matches both).
func stricterAs(sentinel error, detail string) error {
	return &stricterError{msg: sentinel.Error() + ": " + detail, kind: sentinel}
}

type stricterError struct {
	msg  string
	kind error // nil, or the sentinel this refusal also is
}

func (e *stricterError) Error() string        { return e.msg }
func (e *stricterError) Is(target error) bool { return target == errStricter }
func (e *stricterError) Unwrap() error        { return e.kind }

// rawPacket is one framed packet; body aliases the input.
type rawPacket struct {
	tag  byte
	body []byte
}

// nextPacket splits one packet off b (RFC 9580 §4.2). Old and new headers are accepted;
// partial and indeterminate lengths are refused: MIG signatures and keys never use them, and
// they only complicate bounding.
func nextPacket(b []byte) (rawPacket, []byte, error) {
	if len(b) == 0 {
		return rawPacket{}, nil, errors.New(structural + "empty packet")
	}
	h := b[0]
	if h&0x80 == 0 {
		return rawPacket{}, nil, errors.New(structural + "tag byte does not have MSB set")
	}
	var tag byte
	var n int // body length
	rest := b[1:]
	if h&0x40 == 0 {
		tag = (h & 0x3f) >> 2
		lt := h & 3
		if lt == 3 {
			return rawPacket{}, nil, stricterf("packet with indeterminate length")
		}
		l := 1 << lt
		if len(rest) < l {
			return rawPacket{}, nil, errors.New(structural + "packet header truncated")
		}
		for _, c := range rest[:l] {
			n = n<<8 | int(c)
		}
		rest = rest[l:]
	} else {
		tag = h & 0x3f
		if len(rest) < 1 {
			return rawPacket{}, nil, errors.New(structural + "packet header truncated")
		}
		switch c := rest[0]; {
		case c < 192:
			n, rest = int(c), rest[1:]
		case c < 224:
			if len(rest) < 2 {
				return rawPacket{}, nil, errors.New(structural + "packet header truncated")
			}
			n, rest = (int(c)-192)<<8+int(rest[1])+192, rest[2:]
		case c < 255:
			return rawPacket{}, nil, stricterf("packet with partial body length")
		default:
			if len(rest) < 5 {
				return rawPacket{}, nil, errors.New(structural + "packet header truncated")
			}
			n = int(rest[1])<<24 | int(rest[2])<<16 | int(rest[3])<<8 | int(rest[4])
			rest = rest[5:]
		}
	}
	if n < 0 || n > len(rest) {
		// go-crypto reads only what a packet's fields need, so it would not notice a length
		// pointing past the end when the fields fit.
		return rawPacket{}, nil, stricterf("packet of type %d: body of %d bytes truncated (%d left)", tag, n, len(rest))
	}
	return rawPacket{tag: tag, body: rest[:n]}, rest[n:], nil
}

var errTruncated = errors.New("unexpected EOF")

// reader consumes a packet body; every read is bounds-checked.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errTruncated
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) uint16() int {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return int(b[0])<<8 | int(b[1])
}

func (r *reader) uint32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// mpi reads a multiprecision integer: two-octet bit count, then the bytes. Like go-crypto, the
// bit count is not checked against the leading byte, so re-encoding gives back the input.
func (r *reader) mpi() []byte {
	bits := r.uint16()
	return r.bytes((bits + 7) / 8)
}
