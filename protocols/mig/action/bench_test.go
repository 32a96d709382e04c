package action

import (
	"testing"
	"time"
)

// BenchmarkVerify measures verifying one action with one RSA-2048 signature: signed string,
// signature parse and check, ACL.
func BenchmarkVerify(b *testing.B) {
	k := getKeys(b)
	a := baseAction(b)
	a.Operations = a.Operations[1:] // timedrift: default entry, alice alone suffices
	signWith(b, a, k.alice)
	v := &Verifier{Keyring: k.keyring(b), ACL: testACL(k), Now: func() time.Time { return vFrom }}
	if err := v.Verify(a); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignedString measures building the note's worked example.
func BenchmarkSignedString(b *testing.B) {
	a := decodeAction(b, noteExample)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignedString(a); err != nil {
			b.Fatal(err)
		}
	}
}
