package pgp

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary key and signature packets to both implementations: ours must
// never panic and never accept what go-crypto refuses (compare fails the run otherwise).
func FuzzVerify(f *testing.F) {
	msg := readFile(f, "message.txt")
	for _, s := range fixtures(f) {
		f.Add(s.key, s.sig)
	}
	f.Fuzz(func(t *testing.T, key, sig []byte) {
		if len(key) > maxKeyFile || len(sig) > 1<<16 {
			return
		}
		compare(t, "fuzz", [][]byte{key}, msg, sig, t1.Add(time.Minute))
	})
}

// FuzzReadArmoredKey: armor and packet parsing never panic, and an accepted key has a
// fingerprint.
func FuzzReadArmoredKey(f *testing.F) {
	for _, n := range []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey", "revoked"} {
		f.Add(readFile(f, n+".asc"))
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZZ\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ReadArmoredKey(b)
		if err == nil && len(k.Fingerprint()) != 40 {
			t.Fatalf("accepted key with fingerprint %q", k.Fingerprint())
		}
	})
}

// FuzzVerifySignature keeps a keyring of valid keys and fuzzes the signature only, so the
// fuzzer spends its time in the verification path.
func FuzzVerifySignature(f *testing.F) {
	msg := readFile(f, "message.txt")
	var ring [][]byte
	for _, s := range fixtures(f) {
		ring = append(ring, s.key)
		f.Add(s.sig)
	}
	for _, n := range []string{"sigexpired", "sha1", "text", "other", "brainpool-sub"} {
		f.Add(readFile(f, n+".sig"))
	}
	// Reading keys costs milliseconds: once, not per input.
	loaded := loadRings(f, ring)
	f.Fuzz(func(t *testing.T, sig []byte) {
		if len(sig) > 1<<16 {
			return
		}
		compareSig(t, "fuzz", loaded, msg, sig, t1.Add(time.Minute))
	})
}
