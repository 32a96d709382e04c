package keyparse

import (
	"encoding/binary"
	"math/big"
)

// The helpers below read and write the SSH wire encoding (RFC 4251 section 5) the way
// x/crypto/ssh's Unmarshal and Marshal do, so that re-encoded blobs match its bytes.

func parseString(in []byte) (out, rest []byte, ok bool) {
	if len(in) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(in)
	in = in[4:]
	if uint64(len(in)) < uint64(n) {
		return nil, nil, false
	}
	return in[:n], in[n:], true
}

func parseUint32(in []byte) (uint32, []byte, bool) {
	if len(in) < 4 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint32(in), in[4:], true
}

func parseUint64(in []byte) (uint64, []byte, bool) {
	if len(in) < 8 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(in), in[8:], true
}

// parseMPInt reads a two's-complement mpint; like x/crypto/ssh it accepts non-minimal encodings
// and negative numbers, which appendMPInt then writes back in canonical form.
func parseMPInt(in []byte) (*big.Int, []byte, bool) {
	contents, rest, ok := parseString(in)
	if !ok {
		return nil, nil, false
	}
	out := new(big.Int)
	if len(contents) > 0 && contents[0]&0x80 != 0 {
		not := make([]byte, len(contents))
		for i, b := range contents {
			not[i] = ^b
		}
		out.SetBytes(not)
		out.Add(out, big.NewInt(1))
		out.Neg(out)
	} else {
		out.SetBytes(contents)
	}
	return out, rest, true
}

// parseStrings reads n strings in a row.
func parseStrings(in []byte, n int) ([][]byte, []byte, bool) {
	out := make([][]byte, n)
	for i := range out {
		var ok bool
		if out[i], in, ok = parseString(in); !ok {
			return nil, nil, false
		}
	}
	return out, in, true
}

func appendString(to, s []byte) []byte {
	to = binary.BigEndian.AppendUint32(to, uint32(len(s)))
	return append(to, s...)
}

func appendMPInt(to []byte, n *big.Int) []byte {
	var body []byte
	switch n.Sign() {
	case -1:
		m := new(big.Int).Neg(n)
		m.Sub(m, big.NewInt(1))
		b := m.Bytes()
		for i := range b {
			b[i] ^= 0xff
		}
		if len(b) == 0 || b[0]&0x80 == 0 {
			body = append([]byte{0xff}, b...)
		} else {
			body = b
		}
	case 1:
		b := n.Bytes()
		if b[0]&0x80 != 0 {
			body = append([]byte{0}, b...)
		} else {
			body = b
		}
	}
	return appendString(to, body)
}
