package pgp

import (
	"bytes"
	"crypto"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// signed is one key (binary) with a detached signature over msg.
type signed struct {
	name    string
	key     []byte
	msg     []byte
	sig     []byte
	revoked bool // the key is revoked: the valid input is refused
}

var (
	genOnce sync.Once
	genSet  []signed
	genErr  error
)

// generated makes keys and signatures with go-crypto (slow for RSA: once per binary).
func generated(t testing.TB) []signed {
	t.Helper()
	genOnce.Do(func() {
		msg := []byte("{\"name\":\"differential\"}\nsecond line\r\n")
		tests := []struct {
			name    string
			cfg     packet.Config
			subkey  bool
			text    bool
			sigHash crypto.Hash
		}{
			{name: "RSA-2048", cfg: packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048}},
			{name: "EdDSA legacy", cfg: packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}},
			{name: "Ed25519", cfg: packet.Config{Algorithm: packet.PubKeyAlgoEd25519}},
			{name: "ECDSA P-256", cfg: packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP256}},
			{name: "ECDSA P-384 SHA-384", cfg: packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP384}, sigHash: crypto.SHA384},
			{name: "EdDSA with signing subkey", cfg: packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}, subkey: true},
			{name: "Ed25519 text, expiring key", cfg: packet.Config{Algorithm: packet.PubKeyAlgoEd25519, KeyLifetimeSecs: 86400}, text: true},
		}
		for _, tt := range tests {
			cfg := tt.cfg
			cfg.Time = func() time.Time { return t0 }
			e, err := openpgp.NewEntity(tt.name, "", "diff@example.net", &cfg)
			if err != nil {
				genErr = fmt.Errorf("%s: %w", tt.name, err)
				return
			}
			if tt.subkey {
				if err := e.AddSigningSubkey(&cfg); err != nil {
					genErr = err
					return
				}
			}
			var key, sig bytes.Buffer
			if err := e.Serialize(&key); err != nil {
				genErr = err
				return
			}
			scfg := &packet.Config{Time: func() time.Time { return t1 }, DefaultHash: tt.sigHash}
			if tt.text {
				err = openpgp.DetachSignText(&sig, e, bytes.NewReader(msg), scfg)
			} else {
				err = openpgp.DetachSign(&sig, e, bytes.NewReader(msg), scfg)
			}
			if err != nil {
				genErr = fmt.Errorf("%s: sign: %w", tt.name, err)
				return
			}
			genSet = append(genSet, signed{name: tt.name, key: key.Bytes(), msg: msg, sig: sig.Bytes()})
		}
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genSet
}

// fixtures are the gpg-made keys with their signatures.
func fixtures(t testing.TB) []signed {
	t.Helper()
	msg := readFile(t, "message.txt")
	var out []signed
	for _, n := range []string{"rsa", "ed25519", "p256", "p384", "dsa", "subkey", "expired", "revoked", "uids", "brainpool"} {
		out = append(out, signed{name: "gpg " + n, key: dearmorGC(t, readFile(t, n+".asc")), msg: msg, sig: readFile(t, n+".sig"),
			revoked: n == "revoked"})
	}
	return out
}

// mutations of b: each byte with its low bit, its high bit and all bits flipped, and every
// truncation.
func mutations(b []byte, each func(what string, m []byte)) {
	for i := range b {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := append([]byte(nil), b...)
			m[i] ^= x
			each(fmt.Sprintf("byte %d ^ %#02x", i, x), m)
		}
	}
	for n := range len(b) {
		each(fmt.Sprintf("truncated to %d", n), append([]byte(nil), b[:n]...))
	}
}

// Our accept/reject equals go-crypto's for valid inputs and every single-byte mutation or
// truncation of keys and signatures, except documented refusals (errStricter).
func TestDifferentialMutations(t *testing.T) {
	at := t1.Add(time.Minute)
	sets := append(generated(t), fixtures(t)...)
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			if compare(t, "valid", [][]byte{s.key}, s.msg, s.sig, at) != "" {
				t.Fatal("valid input refused by the stricter rules")
			}
			if o := ours([][]byte{s.key}, s.msg, s.sig, at); o.ok() == s.revoked {
				t.Fatalf("valid input: %v (revoked key: %v)", o, s.revoked)
			}
			cases, stricter := 0, map[string]int{}
			check := func(what string, keys [][]byte, sig []byte) {
				cases++
				if why := compare(t, what, keys, s.msg, sig, at); why != "" {
					stricter[strings.Map(noDigits, why)]++
				}
			}
			mutations(s.sig, func(what string, m []byte) { check("signature "+what, [][]byte{s.key}, m) })
			if testing.Short() && len(s.key) > 1500 {
				return
			}
			mutations(s.key, func(what string, m []byte) { check("key "+what, [][]byte{m}, s.sig) })
			t.Logf("%d cases; refused only by the stricter rules: %v", cases, stricter)
		})
	}
}

func noDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return -1
	}
	return r
}

// A keyring of several keys: the right one is found and named.
func TestDifferentialKeyring(t *testing.T) {
	sets := append(generated(t), fixtures(t)...)
	var ring [][]byte
	for _, s := range sets {
		ring = append(ring, s.key)
	}
	for _, s := range sets {
		compare(t, s.name, ring, s.msg, s.sig, t1.Add(time.Minute))
		for _, at := range []time.Time{t0, t1.Add(48 * time.Hour), t1.Add(365 * 24 * time.Hour)} {
			compare(t, s.name+" at "+at.String(), ring, s.msg, s.sig, at)
		}
	}
	compare(t, "empty keyring", nil, sets[0].msg, sets[0].sig, t1)
}
