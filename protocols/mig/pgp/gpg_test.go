package pgp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// Keys and signatures made by the real gpg (testdata/make.sh).
func TestGPGFixtures(t *testing.T) {
	names := []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey", "expired", "revoked", "other", "uids", "brainpool"}
	keys := map[string]*Key{}
	bins := map[string][]byte{}
	for _, n := range names {
		armored := readFile(t, n+".asc")
		k, err := ReadArmoredKey(armored)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		want := strings.TrimSpace(string(readFile(t, n+".fpr")))
		if k.Fingerprint() != want {
			t.Fatalf("%s: fingerprint %s, gpg says %s", n, k.Fingerprint(), want)
		}
		keys[n], bins[n] = k, dearmorGC(t, armored)
	}
	if got := len(keys["ed25519"].subkeys); got != 0 {
		t.Errorf("ed25519: %d usable subkeys, want 0 (its cv25519 subkey cannot sign)", got)
	}
	if got := len(keys["subkey"].subkeys); got != 1 {
		t.Errorf("subkey: %d usable subkeys, want 1", got)
	}
	if got := len(keys["brainpool"].subkeys); got != 0 {
		t.Errorf("brainpool: %d usable subkeys, want 0", got)
	}
	msg := readFile(t, "message.txt")
	ring := []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey", "expired", "revoked", "uids", "brainpool"}
	at := t1.Add(time.Minute)
	tests := []struct {
		name     string
		sig      string
		msg      []byte
		at       time.Time
		signer   string // key name when accepted
		want     error  // else
		stricter bool   // go-crypto accepts: one of our deliberate refusals
		text     string // the error says this
	}{
		{name: "RSA", sig: "rsa.sig", signer: "rsa"},
		{name: "ed25519 with cv25519 subkey", sig: "ed25519.sig", signer: "ed25519"},
		{name: "ECDSA P-256", sig: "p256.sig", signer: "p256"},
		{name: "ECDSA P-384", sig: "p384.sig", signer: "p384"},
		{name: "DSA", sig: "dsa.sig", signer: "dsa"},
		{name: "signing subkey counts for its primary", sig: "subkey.sig", signer: "subkey"},
		{name: "key not yet expired", sig: "expired.sig", signer: "expired"},
		{name: "key expired", sig: "expired.sig", at: t0.Add(48 * time.Hour), want: ErrKeyExpired},
		{name: "revoked key", sig: "revoked.sig", want: ErrKeyRevoked},
		{name: "signature within its lifetime", sig: "sigexpired.sig", signer: "ed25519"},
		{name: "signature past its lifetime", sig: "sigexpired.sig", at: t1.Add(25 * time.Hour), want: ErrSignatureExpired},
		{name: "signature from the future", sig: "rsa.sig", at: t0, want: ErrSignatureExpired},
		{name: "SHA-1 message signature still verifies (MIG §4.3)", sig: "sha1.sig", signer: "rsa"},
		{name: "text mode", sig: "text.sig", signer: "ed25519"},
		{name: "text mode, line ends changed", sig: "text.sig", signer: "ed25519",
			msg: bytes.ReplaceAll(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))},
		{name: "text mode, content changed", sig: "text.sig", msg: bytes.Replace(msg, []byte("one"), []byte("One"), 1), want: ErrBadSignature},
		{name: "binary, line ends changed", sig: "ed25519.sig", msg: bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), want: ErrBadSignature},
		{name: "binary, message changed", sig: "rsa.sig", msg: append(append([]byte{}, msg...), ' '), want: ErrBadSignature},
		{name: "key not in the ring", sig: "other.sig", want: ErrUnknownIssuer},
		{name: "two user IDs, first revoked, third-party certified", sig: "uids.sig", signer: "uids"},
		{name: "brainpool subkeys kept unused, primary signs", sig: "brainpool.sig", signer: "brainpool"},
		{name: "signature by a brainpool subkey", sig: "brainpool-sub.sig", want: ErrUnknownIssuer, stricter: true,
			text: "cannot verify with: ECDSA curve brainpoolP256r1"},
	}
	var ringKeys []*Key
	var ringBins [][]byte
	for _, n := range ring {
		ringKeys, ringBins = append(ringKeys, keys[n]), append(ringBins, bins[n])
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, when := tt.msg, tt.at
			if m == nil {
				m = msg
			}
			if when.IsZero() {
				when = at
			}
			sig := readFile(t, tt.sig)
			k, err := VerifyDetached(ringKeys, m, sig, when)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %v, want %v with %q", err, tt.want, tt.text)
				}
			} else if err != nil {
				t.Fatalf("refused: %v", err)
			} else if k != keys[tt.signer] {
				t.Fatalf("signer %s, want %s", k.Fingerprint(), keys[tt.signer].Fingerprint())
			}
			if why := compare(t, tt.name, ringBins, m, sig, when); (why != "") != tt.stricter {
				t.Errorf("refused only by our stricter rules: %q, want %v", why, tt.stricter)
			}
		})
	}
}
