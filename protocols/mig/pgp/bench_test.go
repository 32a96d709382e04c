package pgp

import (
	"testing"
	"time"
)

// BenchmarkVerify: verifying one action signature against a keyring already loaded.
func BenchmarkVerify(b *testing.B) {
	msg := readFile(b, "message.txt")
	var ring []*Key
	for _, n := range []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey"} {
		k, err := ReadArmoredKey(readFile(b, n+".asc"))
		if err != nil {
			b.Fatal(err)
		}
		ring = append(ring, k)
	}
	for _, n := range []string{"rsa", "ed25519", "p256"} {
		sig := readFile(b, n+".sig")
		b.Run(n, func(b *testing.B) {
			for b.Loop() {
				if _, err := VerifyDetached(ring, msg, sig, t1.Add(time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadKeyring: loading the fixture keys, self-signatures checked.
func BenchmarkReadKeyring(b *testing.B) {
	var files [][]byte
	for _, n := range []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey", "uids"} {
		files = append(files, readFile(b, n+".asc"))
	}
	for b.Loop() {
		for _, f := range files {
			if _, err := ReadArmoredKey(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}
