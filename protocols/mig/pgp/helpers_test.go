package pgp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Fixture clock of testdata/make.sh: keys made at t0, signatures at t1.
var (
	t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dearmorGC decodes armor with go-crypto, to feed both implementations the same binary.
func dearmorGC(t testing.TB, armored []byte) []byte {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(blk.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func armorKey(t testing.TB, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// outcome is what one implementation decided.
type outcome struct {
	keyErr error // reading a key failed
	fp     string
	err    error
	// unchecked: a key has a signing subkey we cannot verify with, whose back-signature
	// was therefore not checked (see the package doc).
	unchecked bool
}

func (o outcome) ok() bool { return o.keyErr == nil && o.err == nil }

func (o outcome) String() string {
	switch {
	case o.keyErr != nil:
		return "key refused: " + o.keyErr.Error()
	case o.err != nil:
		return "signature refused: " + o.err.Error()
	}
	return "accepted, signer " + o.fp
}

// ours verifies with this package; keys are binary transferable public keys.
func ours(keys [][]byte, msg, sig []byte, at time.Time) outcome {
	var ring []*Key
	unchecked := false
	for _, b := range keys {
		k, err := ReadKey(b)
		if err != nil {
			return outcome{keyErr: err}
		}
		ring = append(ring, k)
		unchecked = unchecked || len(k.unusable) > 0
	}
	k, err := VerifyDetached(ring, msg, sig, at)
	if err != nil {
		return outcome{err: err, unchecked: unchecked}
	}
	return outcome{fp: k.Fingerprint(), unchecked: unchecked}
}

// reference verifies with go-crypto v1.4.1, as the agent did before this package. A panic
// in go-crypto counts as a refusal.
func reference(keys [][]byte, msg, sig []byte, at time.Time) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = outcome{err: fmt.Errorf("go-crypto panic: %v", r)}
		}
	}()
	var ring openpgp.EntityList
	for _, b := range keys {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(b))
		if err != nil {
			return outcome{keyErr: err}
		}
		if len(el) != 1 {
			return outcome{keyErr: fmt.Errorf("%d keys", len(el))}
		}
		ring = append(ring, el...)
	}
	cfg := &packet.Config{Time: func() time.Time { return at }}
	e, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(msg), bytes.NewReader(sig), cfg)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{fp: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
}

// loadedRings holds one keyring read by both implementations, for fuzzing signatures only.
type loadedRings struct {
	ours      []*Key
	ref       openpgp.EntityList
	unchecked bool
}

func loadRings(t testing.TB, keys [][]byte) loadedRings {
	t.Helper()
	var l loadedRings
	for _, b := range keys {
		k, err := ReadKey(b)
		if err != nil {
			t.Fatal(err)
		}
		el, err := openpgp.ReadKeyRing(bytes.NewReader(b))
		if err != nil || len(el) != 1 {
			t.Fatalf("go-crypto: %d keys, %v", len(el), err)
		}
		l.ours, l.ref = append(l.ours, k), append(l.ref, el[0])
		l.unchecked = l.unchecked || len(k.unusable) > 0
	}
	return l
}

// compareSig is compare over keyrings already loaded.
func compareSig(t testing.TB, name string, l loadedRings, msg, sig []byte, at time.Time) string {
	t.Helper()
	got := outcome{unchecked: l.unchecked}
	if k, err := VerifyDetached(l.ours, msg, sig, at); err != nil {
		got.err = err
	} else {
		got.fp = k.Fingerprint()
	}
	want := func() (o outcome) {
		defer func() {
			if r := recover(); r != nil {
				o = outcome{err: fmt.Errorf("go-crypto panic: %v", r)}
			}
		}()
		cfg := &packet.Config{Time: func() time.Time { return at }}
		e, err := openpgp.CheckDetachedSignature(l.ref, bytes.NewReader(msg), bytes.NewReader(sig), cfg)
		if err != nil {
			return outcome{err: err}
		}
		return outcome{fp: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
	}()
	return judge(t, name, got, want)
}

// compare runs both and fails the test unless they agree. The one allowed disagreement: we
// refuse, go-crypto accepts, and our error carries errStricter (a documented refusal).
// It returns our error when that allowance was used, else "".
func compare(t testing.TB, name string, keys [][]byte, msg, sig []byte, at time.Time) (stricter string) {
	t.Helper()
	return judge(t, name, ours(keys, msg, sig, at), reference(keys, msg, sig, at))
}

// judge applies compare's rules to two outcomes.
func judge(t testing.TB, name string, got, want outcome) (stricter string) {
	t.Helper()
	switch {
	case got.ok() && want.ok():
		if got.fp != want.fp {
			t.Errorf("%s: signer %s, go-crypto says %s", name, got.fp, want.fp)
		}
	case !got.ok() && !want.ok() && got.keyErr == nil && want.keyErr == nil:
		// Both refuse the signature: "unknown signer" and "bad signature" read differently in
		// MIG's logs, so the kinds must agree too, unless ours is a deliberate refusal.
		gu, wu := errors.Is(got.err, ErrUnknownIssuer), errors.Is(want.err, pgperrors.ErrUnknownIssuer)
		// go-crypto reads a packet truncated right where an Ed25519 signature value should
		// start as the end of its input ("unknown entity"); we say truncated.
		quirk := wu && errors.Is(got.err, errTruncated)
		if gu != wu && !errors.Is(got.err, errStricter) && !quirk {
			t.Errorf("%s: we refuse with %v, go-crypto with %v", name, got.err, want.err)
		}
	case got.ok() && !want.ok():
		// The one leniency by design: go-crypto refuses a whole key over a bad back-signature
		// of a signing subkey we cannot use anyway (package doc); the primary still signs.
		if got.unchecked && want.keyErr != nil && strings.Contains(want.keyErr.Error(), "cross-signature") {
			return ""
		}
		t.Errorf("%s: we accept (%v), go-crypto refuses: %v", name, got, want)
	case !got.ok() && want.ok():
		err := got.keyErr
		if err == nil {
			err = got.err
		}
		if !errors.Is(err, errStricter) {
			t.Errorf("%s: we refuse (%v), go-crypto accepts (%v)", name, got, want)
		}
		return err.Error()
	}
	return ""
}

func armorEncode(w *bytes.Buffer, typ string) (interface {
	Write([]byte) (int, error)
	Close() error
}, error) {
	return armor.Encode(w, typ, nil)
}
