package glpi

import (
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
)

// storedMax is the largest body sent as stored (uncompressed) deflate blocks. compress/flate's
// writer allocates about 800 KB of tables whatever the level, which a CONTACT, a PROLOG or a
// deploy status message (a few hundred bytes each) would turn into garbage at every exchange;
// compressing them would save a few hundred bytes on the wire.
const storedMax = 4 << 10

// deflateStored appends body as deflate stored blocks (RFC 1951 §3.2.4), the last one final.
func deflateStored(dst, body []byte) []byte {
	for {
		n := min(len(body), 0xffff)
		final := byte(0)
		if n == len(body) {
			final = 1
		}
		dst = append(dst, final)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, body[:n]...)
		body = body[n:]
		if final == 1 {
			return dst
		}
	}
}

// zlibStored is body as a zlib stream (RFC 1950) of stored blocks.
func zlibStored(body []byte) []byte {
	// CMF 0x78: deflate with a 32 KB window; FLG 0x01: fastest level, no dictionary, and
	// 0x7801 is a multiple of 31 as the header check requires.
	out := make([]byte, 0, len(body)+len(body)/0xffff*5+11)
	out = append(out, 0x78, 0x01)
	out = deflateStored(out, body)
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(body))
}

// gzipStored is body as a gzip member (RFC 1952) of stored blocks, with the header Go's
// gzip writer emits (no name, no time, unknown OS).
func gzipStored(body []byte) []byte {
	out := make([]byte, 0, len(body)+len(body)/0xffff*5+23)
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
	out = deflateStored(out, body)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	return binary.LittleEndian.AppendUint32(out, uint32(len(body)))
}
