package action

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/omniagent/omniagent/protocols/mig/pgp"
)

// testKeys are RSA-2048 investigators generated once per test binary (generation is slow).
type testKeys struct {
	alice, bob, carol *openpgp.Entity // carol is never in the keyring
	aliceArmored      []byte
	bobArmored        []byte
}

var (
	keysOnce sync.Once
	keys     testKeys
	keysErr  error
)

func newRSA(name string) (*openpgp.Entity, error) {
	return openpgp.NewEntity(name, "test", name+"@example.net", &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA,
		RSABits:   2048,
		Time:      func() time.Time { return time.Now().Add(-time.Hour) },
	})
}

func armorPublic(e *openpgp.Entity) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		for _, p := range []struct {
			e    **openpgp.Entity
			name string
		}{{&keys.alice, "alice"}, {&keys.bob, "bob"}, {&keys.carol, "carol"}} {
			if *p.e, keysErr = newRSA(p.name); keysErr != nil {
				return
			}
		}
		if keys.aliceArmored, keysErr = armorPublic(keys.alice); keysErr != nil {
			return
		}
		keys.bobArmored, keysErr = armorPublic(keys.bob)
	})
	if keysErr != nil {
		t.Fatalf("generate keys: %v", keysErr)
	}
	return &keys
}

// keyring parses the public halves, as the agent would from its keyring directory.
func (k *testKeys) keyring(t testing.TB) []*pgp.Key {
	t.Helper()
	el, err := ParseKeyring(k.aliceArmored, k.bobArmored)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// signWith appends one signature per signer.
func signWith(t testing.TB, a *Action, signers ...*openpgp.Entity) {
	t.Helper()
	for _, s := range signers {
		sig, err := testSign(a, s)
		if err != nil {
			t.Fatal(err)
		}
		a.PGPSignatures = append(a.PGPSignatures, sig)
	}
}

// compressParams mirrors MIG's CompressOperationParam: JSON → gzip → base64 string.
func compressParams(t testing.TB, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	gz := gzip.NewWriter(enc)
	if _, err := gz.Write(js); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fpOf is the upper-case hex fingerprint of a go-crypto entity, as the ACL lists it.
func fpOf(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// testSign signs a's signed string as MIG's client does (see migfake.Sign, which the agent's
// package cannot import here without a cycle).
func testSign(a *Action, e *openpgp.Entity) (string, error) {
	if e == nil || e.PrivateKey == nil {
		return "", errors.New("sign action: entity has no private key")
	}
	str, err := SignedString(a)
	if err != nil {
		return "", err
	}
	return testSignBytes(str, e)
}

func testSignBytes(str []byte, e *openpgp.Entity) (string, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(str), nil); err != nil {
		return "", err
	}
	return OneLine(buf.String())
}

// sigPacket reads the first packet with go-crypto, to inspect what a test signed.
func sigPacket(raw []byte) (*packet.Signature, error) {
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("first packet is %T, not a signature", p)
	}
	return sig, nil
}
