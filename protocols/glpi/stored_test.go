package glpi

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"testing"
)

// TestStoredStreams: the hand-written stored streams decode with the standard readers at every
// block boundary, and a damaged byte or checksum is caught by them.
func TestStoredStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 300, storedMax, 0xffff, 0x10000, 3*0xffff + 7} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(rng.IntN(256))
		}
		for _, tc := range []struct {
			name string
			enc  func([]byte) []byte
			read func(io.Reader) (io.Reader, error)
			ct   string
		}{
			{"zlib", zlibStored, func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) }, ctZlib},
			{"gzip", gzipStored, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }, ctGzip},
		} {
			wire := tc.enc(body)
			r, err := tc.read(bytes.NewReader(wire))
			if err != nil {
				t.Fatalf("%s %d bytes: header: %v", tc.name, n, err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%s %d bytes: read %d bytes, %v", tc.name, n, len(got), err)
			}
			// Sniffed without a Content-Type, as the fake server and GLPI do.
			if got, err := Decompress(wire, "", 1<<20); err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%s %d bytes: Decompress sniffing: %d bytes, %v", tc.name, n, len(got), err)
			}
			if n == 0 {
				continue
			}
			bad := bytes.Clone(wire)
			bad[len(bad)-9] ^= 0x40 // the last body byte for zlib, near it for gzip
			if r, err := tc.read(bytes.NewReader(bad)); err == nil {
				if _, err := io.ReadAll(r); err == nil {
					t.Fatalf("%s %d bytes: a damaged stream decoded", tc.name, n)
				}
			}
		}
	}
}

// TestCompressSmallBodiesStored: small messages go out stored, without building a compressor;
// large ones are compressed.
func TestCompressSmallBodiesStored(t *testing.T) {
	small := bytes.Repeat([]byte(`{"action":"contact"}`), 100)
	large := bytes.Repeat([]byte(`{"name":"package","version":"1.0"}`), 1000)
	for _, tc := range []struct {
		enc, ct  string
		overhead int
	}{
		{CompressZlib, ctZlib, 11},
		{CompressGzip, ctGzip, 23},
	} {
		wire, ct, err := compress(small, tc.enc, ctJSON)
		if err != nil || ct != tc.ct || len(wire) != len(small)+tc.overhead {
			t.Errorf("%s small: %d bytes (want %d), %q, %v", tc.enc, len(wire), len(small)+tc.overhead, ct, err)
		}
		// Two allocations: the output and the checksum's state (no flate tables).
		if n := testing.AllocsPerRun(10, func() { _, _, _ = compress(small, tc.enc, ctJSON) }); n > 2 {
			t.Errorf("%s small: %v allocations per message", tc.enc, n)
		}
		wire, ct, err = compress(large, tc.enc, ctJSON)
		if err != nil || ct != tc.ct || len(wire) >= len(large)/4 {
			t.Errorf("%s large: %d bytes from %d, %q, %v", tc.enc, len(wire), len(large), ct, err)
		}
		if got, err := Decompress(wire, ct, 1<<20); err != nil || !bytes.Equal(got, large) {
			t.Errorf("%s large: round trip %d bytes, %v", tc.enc, len(got), err)
		}
	}
}

// BenchmarkCompressContact: one CONTACT-sized message per encoding (B/op is the point: the
// flate writer alone allocates about 800 KB).
func BenchmarkCompressContact(b *testing.B) {
	body := bytes.Repeat([]byte(`{"action":"contact","deviceid":"pc1"}`), 10)
	for _, enc := range []string{CompressZlib, CompressGzip} {
		b.Run(enc, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compress(body, enc, ctJSON); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
