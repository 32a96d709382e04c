package pgp

import (
	"bytes"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// scenario builds a key and a signature with go-crypto, then changes them.
type scenario struct {
	name string
	cfg  packet.Config // key algorithm (default Ed25519)
	// prepare runs after generation, before signing; edit after signing.
	prepare func(t *testing.T, e *openpgp.Entity)
	sigCfg  packet.Config
	// sign replaces DetachSign (made at t1) when set.
	sign func(t *testing.T, e *openpgp.Entity, msg []byte) []byte
	edit func(t *testing.T, e *openpgp.Entity)
	// stricter: go-crypto accepts, we refuse on purpose.
	stricter bool
	at       time.Time
	wantKey  string // substring of the key error, when reading the key must fail
	want     error  // nil: accepted
}

func cfgAt(when time.Time) *packet.Config {
	return &packet.Config{Time: func() time.Time { return when }}
}

// Behaviours that matter for MIG, each checked against go-crypto as well (compare).
func TestRules(t *testing.T) {
	msg := []byte("action bytes\n")
	tests := []scenario{
		{name: "valid Ed25519"},
		{name: "valid EdDSA legacy", cfg: packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}},
		{name: "valid ECDSA P-521", cfg: packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP521}},
		{name: "SHA-512 message signature", sigCfg: packet.Config{DefaultHash: crypto.SHA512}},
		{name: "brainpool primary refused, naming the curve", cfg: packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveBrainpoolP256},
			wantKey: "ECDSA curve brainpoolP256r1"},
		{name: "critical notation refused",
			sigCfg: packet.Config{SignatureNotations: []*packet.Notation{{Name: "x@example.net", Value: []byte("1"), IsCritical: true}}},
			want:   ErrBadSignature},
		{name: "non-critical notation ignored",
			sigCfg: packet.Config{SignatureNotations: []*packet.Notation{{Name: "x@example.net", Value: []byte("1")}}}},
		{name: "signature lifetime", sigCfg: packet.Config{SigLifetimeSecs: 60}, at: t1.Add(2 * time.Minute), want: ErrSignatureExpired},
		{name: "key revoked later as superseded: not yet revoked at signing time",
			edit: func(t *testing.T, e *openpgp.Entity) {
				if err := e.RevokeKey(packet.KeySuperseded, "new key", cfgAt(t1.Add(time.Hour))); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "key revoked later as superseded: revoked after",
			edit: func(t *testing.T, e *openpgp.Entity) {
				if err := e.RevokeKey(packet.KeySuperseded, "new key", cfgAt(t1.Add(time.Hour))); err != nil {
					t.Fatal(err)
				}
			}, at: t1.Add(2 * time.Hour), want: ErrKeyRevoked},
		{name: "key compromised later: revoked from the start",
			edit: func(t *testing.T, e *openpgp.Entity) {
				if err := e.RevokeKey(packet.KeyCompromised, "lost", cfgAt(t1.Add(time.Hour))); err != nil {
					t.Fatal(err)
				}
			}, want: ErrKeyRevoked},
		{name: "signing subkey", prepare: addSigningSubkey(0)},
		{name: "signing subkey before its expiry", prepare: addSigningSubkey(3600), at: t1.Add(time.Minute)},
		{name: "signing subkey expired", prepare: addSigningSubkey(3600), at: t1.Add(2 * time.Hour), want: ErrKeyExpired},
		{name: "signing subkey revoked", prepare: addSigningSubkey(0),
			edit: func(t *testing.T, e *openpgp.Entity) {
				if err := e.RevokeSubkey(&e.Subkeys[len(e.Subkeys)-1], packet.KeyCompromised, "lost", cfgAt(t1)); err != nil {
					t.Fatal(err)
				}
			}, want: ErrKeyRevoked},
		{name: "SHA-224", sigCfg: packet.Config{DefaultHash: crypto.SHA224}},
		{name: "SHA3-256", sigCfg: packet.Config{DefaultHash: crypto.SHA3_256}},
		{name: "issuer fingerprint only", sign: manualSign(t1, false, crypto.SHA256)},
		{name: "issuer key ID and fingerprint", sign: manualSign(t1, true, crypto.SHA256)},
		{name: "signature older than its key", sign: manualSign(t0.Add(-time.Hour), true, crypto.SHA256),
			want: ErrBadSignature, stricter: true},
		{name: "primary without the sign flag cannot sign", edit: func(t *testing.T, e *openpgp.Entity) {
			for _, id := range e.Identities {
				id.SelfSignature.FlagSign = false
				if err := id.SelfSignature.SignUserId(id.Name, e.PrimaryKey, e.PrivateKey, cfgAt(t0)); err != nil {
					t.Fatal(err)
				}
			}
		}, want: ErrUnknownIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.Algorithm == 0 {
				cfg.Algorithm = packet.PubKeyAlgoEd25519
			}
			cfg.Time = func() time.Time { return t0 }
			e, err := openpgp.NewEntity("rules", "", "rules@example.net", &cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, e)
			}
			sc := tt.sigCfg
			sc.Time = func() time.Time { return t1 }
			var sig, key bytes.Buffer
			if tt.sign != nil {
				sig.Write(tt.sign(t, e, msg))
			} else if err := openpgp.DetachSign(&sig, e, bytes.NewReader(msg), &sc); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil && len(e.Subkeys) > 1 {
				p, err := ParseSignature(sig.Bytes())
				if err != nil || p.issuerKeyID == e.PrimaryKey.KeyId {
					t.Fatalf("test setup: signature not made by the subkey (%v)", err)
				}
			}
			if tt.edit != nil {
				tt.edit(t, e)
			}
			if err := e.Serialize(&key); err != nil {
				t.Fatal(err)
			}
			at := tt.at
			if at.IsZero() {
				at = t1.Add(time.Minute)
			}
			o := ours([][]byte{key.Bytes()}, msg, sig.Bytes(), at)
			switch {
			case tt.wantKey != "":
				if o.keyErr == nil || !strings.Contains(o.keyErr.Error(), tt.wantKey) {
					t.Fatalf("got %v, want key refused with %q", o, tt.wantKey)
				}
			case tt.want != nil:
				if o.keyErr != nil || !errors.Is(o.err, tt.want) {
					t.Fatalf("got %v, want %v", o, tt.want)
				}
			case !o.ok():
				t.Fatalf("refused: %v", o)
			case o.fp != strings.ToUpper(fpHex(e)):
				t.Fatalf("signer %s, want %s", o.fp, fpHex(e))
			}
			why := compare(t, tt.name, [][]byte{key.Bytes()}, msg, sig.Bytes(), at)
			if (why != "") != tt.stricter && tt.wantKey == "" {
				t.Errorf("refused only by our stricter rules: %q, want %v", why, tt.stricter)
			}
		})
	}
}

func fpHex(e *openpgp.Entity) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range e.PrimaryKey.Fingerprint {
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// addSigningSubkey adds an Ed25519 signing subkey living lifetime seconds (0: forever), made
// at t0 so that DetachSign picks it over the primary.
func addSigningSubkey(lifetime uint32) func(t *testing.T, e *openpgp.Entity) {
	return func(t *testing.T, e *openpgp.Entity) {
		c := &packet.Config{Algorithm: packet.PubKeyAlgoEd25519, KeyLifetimeSecs: lifetime,
			Time: func() time.Time { return t0.Add(time.Second) }}
		if err := e.AddSigningSubkey(c); err != nil {
			t.Fatal(err)
		}
	}
}

// manualSign signs msg with e's primary key at when, with or without the Issuer Key ID
// subpacket (the Issuer Fingerprint one is always there).
func manualSign(when time.Time, keyID bool, h crypto.Hash) func(t *testing.T, e *openpgp.Entity, msg []byte) []byte {
	return func(t *testing.T, e *openpgp.Entity, msg []byte) []byte {
		sig := &packet.Signature{Version: 4, SigType: packet.SigTypeBinary, PubKeyAlgo: e.PrimaryKey.PubKeyAlgo,
			Hash: h, CreationTime: when}
		if keyID {
			id := e.PrimaryKey.KeyId
			sig.IssuerKeyId = &id
		}
		w, err := sig.PrepareSign(nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(msg)
		if err := sig.Sign(w, e.PrivateKey, &packet.Config{Time: func() time.Time { return when }}); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := sig.Serialize(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
}
