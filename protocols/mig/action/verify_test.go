package action

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var (
	vFrom = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	vTo   = vFrom.Add(10 * time.Minute)
)

// baseAction is a valid, unsigned action: one file and one timedrift operation.
func baseAction(t testing.TB) *Action {
	return decodeAction(t, `{"id":7,"name":"find passwd","target":"status='online'",
		"description":{"author":"Alice"},"threat":{"level":"low"},
		"validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z",
		"operations":[{"module":"file","parameters":{"searches":{"s1":{"paths":["/etc"],"names":["^passwd$"]}}}},
		              {"module":"timedrift","parameters":{"drift":"5s"}}],
		"syntaxversion":2}`)
}

func testACL(k *testKeys) ACL {
	return ACL{
		"default": {MinimumWeight: 1, Investigators: map[string]ACLInvestigator{
			"alice": {Fingerprint: fpOf(k.alice), Weight: 1},
		}},
		"file": {MinimumWeight: 2, Investigators: map[string]ACLInvestigator{
			"alice": {Fingerprint: fpOf(k.alice), Weight: 1},
			"bob":   {Fingerprint: fpOf(k.bob), Weight: 1},
		}},
	}
}

func onlyModule(m string) func(*Action) {
	return func(a *Action) {
		for _, op := range a.Operations {
			if op.Module == m {
				a.Operations = []Operation{op}
				return
			}
		}
	}
}

func TestVerify(t *testing.T) {
	k := getKeys(t)
	fpA := fpOf(k.alice)
	mid := vFrom.Add(5 * time.Minute)
	tests := []struct {
		name    string
		pre     func(*Action) // before signing
		signers []*openpgp.Entity
		post    func(*Action) // after signing: tampering
		now     time.Time
		acl     func(ACL) ACL
		onlyPub bool
		kind    error  // nil: accepted
		msg     string // exact Error() when set
	}{
		{name: "two signers satisfy file and default", signers: []*openpgp.Entity{k.alice, k.bob}},
		{name: "signer order does not matter", signers: []*openpgp.Entity{k.bob, k.alice}},
		{name: "default entry for a module without its own", pre: onlyModule("timedrift"), signers: []*openpgp.Entity{k.alice}},
		{name: "module not in ACL falls to default which lacks bob", pre: onlyModule("timedrift"), signers: []*openpgp.Entity{k.bob},
			kind: ErrInsufficientWeight,
			msg:  "action ACL verification failed: permission denied for operation timedrift, insufficient signatures weight (need 1, got 0)"},
		{name: "module entry overrides default", pre: onlyModule("file"), signers: []*openpgp.Entity{k.alice},
			kind: ErrInsufficientWeight,
			msg:  "action ACL verification failed: permission denied for operation file, insufficient signatures weight (need 2, got 1)"},
		{name: "duplicate signer not counted twice", pre: onlyModule("file"), signers: []*openpgp.Entity{k.alice, k.alice},
			kind: ErrDuplicateSigner,
			msg:  "action ACL verification failed: permission violation: key " + fpA + " used to sign multiple times"},
		{name: "duplicate signer refused even when one signature suffices", pre: onlyModule("timedrift"),
			signers: []*openpgp.Entity{k.alice, k.alice}, kind: ErrDuplicateSigner},
		{name: "fingerprint compared case-insensitively", pre: onlyModule("file"), signers: []*openpgp.Entity{k.alice, k.bob},
			acl: func(acl ACL) ACL {
				e := acl["file"]
				e.Investigators = map[string]ACLInvestigator{
					"a": {Fingerprint: strings.ToLower(fpA), Weight: 1},
					"b": {Fingerprint: strings.ToLower(fpOf(k.bob)), Weight: 1},
				}
				acl["file"] = e
				return acl
			}},
		{name: "weight sums per signer", pre: onlyModule("file"), signers: []*openpgp.Entity{k.alice},
			acl: func(acl ACL) ACL {
				acl["file"] = ACLEntry{MinimumWeight: 2, Investigators: map[string]ACLInvestigator{"a": {Fingerprint: fpA, Weight: 2}}}
				return acl
			}},
		{name: "no entry and no default", signers: []*openpgp.Entity{k.alice, k.bob},
			acl:  func(acl ACL) ACL { delete(acl, "default"); return acl },
			kind: ErrNoACLEntry, msg: "action ACL verification failed: no ACL entry found for timedrift, and no default present"},
		{name: "minimum weight below 1", pre: onlyModule("timedrift"), signers: []*openpgp.Entity{k.alice},
			acl:  func(acl ACL) ACL { acl["default"] = ACLEntry{MinimumWeight: 0}; return acl },
			kind: ErrInvalidACL, msg: "action ACL verification failed: invalid ACL default, weight must be > 0"},
		{name: "nil ACL denies everything", pre: onlyModule("timedrift"), signers: []*openpgp.Entity{k.alice},
			acl: func(ACL) ACL { return nil }, kind: ErrInsufficientWeight},
		{name: "only_verify_pubkey skips the ACL", signers: []*openpgp.Entity{k.bob},
			acl: func(ACL) ACL { return DenyAllACL() }, onlyPub: true},
		{name: "only_verify_pubkey still needs a known key", signers: []*openpgp.Entity{k.carol}, onlyPub: true,
			kind: ErrUnknownSigner},
		{name: "unknown signer", signers: []*openpgp.Entity{k.carol}, kind: ErrUnknownSigner,
			msg: "action ACL verification failed: failed to retrieve fingerprint from signatures: GetFingerprintFromSignature() -> openpgp: signature made by unknown entity"},
		{name: "unknown signer among known ones", signers: []*openpgp.Entity{k.alice, k.bob, k.carol}, kind: ErrUnknownSigner},
		{name: "tampered name", signers: []*openpgp.Entity{k.alice, k.bob}, post: func(a *Action) { a.Name += "!" },
			kind: ErrBadSignature},
		{name: "tampered target", signers: []*openpgp.Entity{k.alice, k.bob}, post: func(a *Action) { a.Target = "1=1" },
			kind: ErrBadSignature},
		{name: "tampered validfrom by one second", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.ValidFrom = a.ValidFrom.Add(-time.Second) }, kind: ErrBadSignature},
		{name: "tampered expireafter", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.ExpireAfter = a.ExpireAfter.Add(time.Minute) }, kind: ErrBadSignature},
		{name: "tampered parameters", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.Operations[1].Parameters = map[string]any{"drift": "6s"} }, kind: ErrBadSignature},
		{name: "tampered module", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.Operations[1].Module = "netstat" }, kind: ErrBadSignature},
		{name: "operation added", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.Operations = append(a.Operations, Operation{Module: "file"}) }, kind: ErrBadSignature},
		{name: "unsigned fields may change", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) {
				a.ID, a.Description.Author, a.Threat.Level, a.Status = 8, "Mallory", "high", "inflight"
				a.ValidFrom = a.ValidFrom.Add(300 * time.Millisecond) // fraction is not signed
			}},
		{name: "signature of another action", signers: []*openpgp.Entity{k.alice},
			post: func(a *Action) {
				other := baseAction(t)
				other.Name = "other"
				sig, err := testSign(other, k.bob)
				if err != nil {
					t.Fatal(err)
				}
				a.PGPSignatures = append(a.PGPSignatures, sig)
			}, kind: ErrBadSignature},
		{name: "signature with wrong CRC", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { s := a.PGPSignatures[0]; a.PGPSignatures[0] = s[:len(s)-4] + flipCRC(s[len(s)-4:]) },
			kind: ErrSignatureEncoding},
		{name: "syntax version 1", pre: func(a *Action) { a.SyntaxVersion = 1 }, signers: []*openpgp.Entity{k.alice, k.bob},
			kind: ErrSyntaxVersion, msg: "action validation failed: wring syntax version, expected 2"},
		{name: "syntax checked before signatures", pre: func(a *Action) { a.SyntaxVersion = 3 }, signers: []*openpgp.Entity{k.carol},
			kind: ErrSyntaxVersion},
		{name: "name empty", pre: func(a *Action) { a.Name = "" }, signers: []*openpgp.Entity{k.alice, k.bob},
			kind: ErrNameEmpty, msg: "action validation failed: action name is empty"},
		{name: "target empty", pre: func(a *Action) { a.Target = "" }, signers: []*openpgp.Entity{k.alice, k.bob},
			kind: ErrTargetEmpty, msg: "action validation failed: action target is empty"},
		{name: "now equals expireafter", signers: []*openpgp.Entity{k.alice, k.bob}, now: vTo},
		{name: "now equals validfrom", signers: []*openpgp.Entity{k.alice, k.bob}, now: vFrom},
		{name: "expired by one second", signers: []*openpgp.Entity{k.alice, k.bob}, now: vTo.Add(time.Second),
			kind: ErrExpired, msg: "action validation failed: action expireafter is in the past"},
		{name: "not yet valid by one second", signers: []*openpgp.Entity{k.alice, k.bob}, now: vFrom.Add(-time.Second),
			kind: ErrNotYetValid, msg: "Action ValidFrom date is in the future"},
		{name: "validfrom after expireafter", pre: func(a *Action) { a.ValidFrom = vTo.Add(time.Second) },
			signers: []*openpgp.Entity{k.alice, k.bob}, kind: ErrWindowInverted,
			msg: "action validation failed: action expireafter is set before action validfrom"},
		{name: "operations missing", pre: func(a *Action) { a.Operations = nil }, signers: []*openpgp.Entity{k.alice},
			kind: ErrNoOperations, msg: "action validation failed: action operations is empty"},
		{name: "operations empty list passes", pre: func(a *Action) { a.Operations = []Operation{} }, signers: []*openpgp.Entity{k.alice}},
		{name: "no signatures", kind: ErrNoSignatures, msg: "action validation failed: action pgpsignatures is empty"},
		{name: "compressed parameters signed compressed", signers: []*openpgp.Entity{k.alice, k.bob},
			pre: func(a *Action) {
				a.Operations[0].Parameters = compressParams(t, a.Operations[0].Parameters)
				a.Operations[0].IsCompressed = true
			}},
		{name: "compressed parameters tampered", signers: []*openpgp.Entity{k.alice, k.bob},
			pre: func(a *Action) {
				a.Operations[0].Parameters = compressParams(t, a.Operations[0].Parameters)
				a.Operations[0].IsCompressed = true
			},
			post: func(a *Action) {
				a.Operations[0].Parameters = compressParams(t, map[string]any{"searches": map[string]any{"s1": map[string]any{"paths": []any{"/"}}}})
			}, kind: ErrBadSignature},
		{name: "compression flag tampered", signers: []*openpgp.Entity{k.alice, k.bob},
			post: func(a *Action) { a.Operations[1].IsCompressed = true }, kind: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := baseAction(t)
			if tt.pre != nil {
				tt.pre(a)
			}
			signWith(t, a, tt.signers...)
			if tt.post != nil {
				tt.post(a)
			}
			acl := testACL(k)
			if tt.acl != nil {
				acl = tt.acl(acl)
			}
			now := tt.now
			if now.IsZero() {
				now = mid
			}
			v := &Verifier{Keyring: k.keyring(t), ACL: acl, OnlyVerifyPubKey: tt.onlyPub, Now: func() time.Time { return now }}
			err := v.Verify(a)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("err %T is not *Error", err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Fatalf("message\n got %q\nwant %q", err.Error(), tt.msg)
			}
			if tt.kind == ErrBadSignature && !strings.HasPrefix(err.Error(), fingerprintPfx+"openpgp: ") {
				t.Fatalf("bad signature message %q", err.Error())
			}
		})
	}
}

func flipCRC(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// Signers writing \b/\f (Go ≥ 1.22 encoders) are accepted through the one retry, as are
// MIG-era signers writing \u0008/\u000c.
func TestVerifyShortEscapeRetry(t *testing.T) {
	k := getKeys(t)
	for _, legacy := range []bool{true, false} {
		a := baseAction(t)
		a.Operations = []Operation{{Module: "timedrift", Parameters: map[string]any{"drift": "5s\b\f"}}}
		str, err := signedString(a, legacy)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := testSignBytes(str, k.alice)
		if err != nil {
			t.Fatal(err)
		}
		a.PGPSignatures = []string{sig}
		v := &Verifier{Keyring: k.keyring(t), ACL: testACL(k), Now: func() time.Time { return vFrom }}
		if err := v.Verify(a); err != nil {
			t.Errorf("legacy=%v: %v", legacy, err)
		}
	}
}

// A signature by a signing subkey counts for its primary key's fingerprint in the ACL.
func TestVerifySubkeySignature(t *testing.T) {
	e, err := newRSA("dave")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddSigningSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048,
		Time: func() time.Time { return time.Now().Add(-time.Minute) }}); err != nil {
		t.Fatal(err)
	}
	pub, err := armorPublic(e)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := ParseKeyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	a := baseAction(t)
	a.Operations = a.Operations[1:]
	signWith(t, a, e)
	raw, err := ParseSignature(a.PGPSignatures[0])
	if err != nil {
		t.Fatal(err)
	}
	p, err := sigPacket(raw)
	if err != nil {
		t.Fatal(err)
	}
	if *p.IssuerKeyId == e.PrimaryKey.KeyId {
		t.Fatal("test setup: signature made by the primary key, not the subkey")
	}
	acl := ACL{"default": {MinimumWeight: 1, Investigators: map[string]ACLInvestigator{"dave": {Fingerprint: fpOf(e), Weight: 1}}}}
	v := &Verifier{Keyring: ring, ACL: acl, Now: func() time.Time { return vFrom }}
	if err := v.Verify(a); err != nil {
		t.Fatal(err)
	}
}

func TestParseACL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ACL
		wantErr bool
	}{
		{name: "note example, inner names any case",
			in: `{"default":{"MinimumWeight":1,"Investigators":{"alice":{"Fingerprint":"E608","Weight":1}}},
			      "file":{"minimumweight":2,"investigators":{"bob":{"fingerprint":"1B2C","weight":1}}}}`,
			want: ACL{
				"default": {MinimumWeight: 1, Investigators: map[string]ACLInvestigator{"alice": {Fingerprint: "E608", Weight: 1}}},
				"file":    {MinimumWeight: 2, Investigators: map[string]ACLInvestigator{"bob": {Fingerprint: "1B2C", Weight: 1}}},
			}},
		{name: "invalid JSON", in: `{"default":`, wantErr: true},
		{name: "not an object", in: `null`, wantErr: true},
		{name: "weight not a number", in: `{"default":{"minimumweight":"1"}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseACL([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("accepted: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v", got)
			}
			for k, e := range tt.want {
				g := got[k]
				if g.MinimumWeight != e.MinimumWeight || len(g.Investigators) != len(e.Investigators) {
					t.Fatalf("%s: got %+v want %+v", k, g, e)
				}
				for n, inv := range e.Investigators {
					if g.Investigators[n] != inv {
						t.Fatalf("%s/%s: got %+v want %+v", k, n, g.Investigators[n], inv)
					}
				}
			}
		})
	}
}

func TestLoadACLFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "acl.cfg")
	bad := filepath.Join(dir, "bad.cfg")
	if err := os.WriteFile(good, []byte(`{"file":{"minimumweight":3,"investigators":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{nope`), 0o600); err != nil {
		t.Fatal(err)
	}
	if acl := LoadACLFile(good, nil); acl["file"].MinimumWeight != 3 {
		t.Fatalf("good file: %v", acl)
	}
	for _, p := range []string{bad, filepath.Join(dir, "missing.cfg")} {
		acl := LoadACLFile(p, nil)
		if err := acl.check("file", []string{"ABCD"}); !errors.Is(err, ErrInsufficientWeight) {
			t.Fatalf("%s: fallback ACL allowed or wrong error: %v", p, err)
		}
	}
}

// go-crypto refuses signatures by expired or revoked keys, which MIG did not: an accepted,
// stricter difference (shared/protocols/mig.md §4.3).
func TestVerifyExpiredOrRevokedKey(t *testing.T) {
	born := time.Now().Add(-2 * time.Hour)
	tests := []struct {
		name  string
		setup func(e *openpgp.Entity) error
		want  string
	}{
		{name: "expired key", want: "openpgp: key expired"},
		{name: "revoked key", want: "openpgp: signature made by revoked key",
			setup: func(e *openpgp.Entity) error {
				return e.RevokeKey(packet.KeyCompromised, "lost", &packet.Config{Time: func() time.Time { return born.Add(time.Minute) }})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, Time: func() time.Time { return born }}
			if tt.setup == nil {
				cfg.KeyLifetimeSecs = 3600 // expired an hour ago
			}
			e, err := openpgp.NewEntity("erin", "", "erin@example.net", cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Sign while the key was still valid and not yet revoked.
			now := time.Now()
			a := baseAction(t)
			a.Operations = a.Operations[1:]
			a.ValidFrom, a.ExpireAfter = now.Add(-time.Minute), now.Add(10*time.Minute)
			str, err := SignedString(a)
			if err != nil {
				t.Fatal(err)
			}
			var buf strings.Builder
			signCfg := &packet.Config{Time: func() time.Time { return born.Add(time.Second) }}
			if err := openpgp.ArmoredDetachSign(&buf, e, strings.NewReader(string(str)), signCfg); err != nil {
				t.Fatal(err)
			}
			line, err := OneLine(buf.String())
			if err != nil {
				t.Fatal(err)
			}
			a.PGPSignatures = []string{line}
			if tt.setup != nil {
				if err := tt.setup(e); err != nil {
					t.Fatal(err)
				}
			}
			pub, err := armorPublic(e)
			if err != nil {
				t.Fatal(err)
			}
			ring, err := ParseKeyring(pub)
			if err != nil {
				t.Fatal(err)
			}
			acl := ACL{"default": {MinimumWeight: 1, Investigators: map[string]ACLInvestigator{"erin": {Fingerprint: fpOf(e), Weight: 1}}}}
			v := &Verifier{Keyring: ring, ACL: acl, Now: func() time.Time { return now }}
			err = v.Verify(a)
			if !errors.Is(err, ErrBadSignature) || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want bad signature ending %q", err, tt.want)
			}
		})
	}
}

// An investigator whose clock runs ahead signs "in the future": verification judges the key
// at the signature's time instead of refusing it as not yet valid (see checkSignature). The
// agent's clock here is vFrom, weeks before the test keys were even made.
func TestVerifySignatureFromInvestigatorClockAhead(t *testing.T) {
	k := getKeys(t)
	now := time.Now()
	for _, ahead := range []time.Duration{0, 10 * time.Minute, 2 * time.Hour} {
		a := baseAction(t)
		a.Operations = a.Operations[1:]
		str, err := SignedString(a)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		cfg := &packet.Config{Time: func() time.Time { return now.Add(ahead) }}
		if err := openpgp.ArmoredDetachSign(&buf, k.alice, strings.NewReader(string(str)), cfg); err != nil {
			t.Fatal(err)
		}
		line, err := OneLine(buf.String())
		if err != nil {
			t.Fatal(err)
		}
		a.PGPSignatures = []string{line}
		v := &Verifier{Keyring: k.keyring(t), ACL: testACL(k), Now: func() time.Time { return vFrom }}
		if err := v.Verify(a); err != nil {
			t.Errorf("clock %v ahead: %v", ahead, err)
		}
	}
}
