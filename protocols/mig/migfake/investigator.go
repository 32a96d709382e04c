package migfake

import (
	"bytes"
	"crypto"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// Investigator is a signer with an RSA key made at test time (MIG's tools need RSA).
type Investigator struct {
	Name   string
	Entity *openpgp.Entity
	// PublicKey is the armored public key: one file of the agent's keyring directory.
	PublicKey []byte
	// Fingerprint is the primary key's upper-case hex fingerprint, as the ACL lists it.
	Fingerprint string
}

// NewInvestigator generates an RSA key of bits (2048 for MIG; smaller only speeds tests).
func NewInvestigator(name string, bits int) (*Investigator, error) {
	e, err := openpgp.NewEntity(name, "", name+"@example.com", &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA, RSABits: bits, DefaultHash: crypto.SHA256,
	})
	if err != nil {
		return nil, fmt.Errorf("migfake: generate key for %s: %w", name, err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("migfake: armor key: %w", err)
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("migfake: serialize key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("migfake: armor key: %w", err)
	}
	return &Investigator{Name: name, Entity: e, PublicKey: buf.Bytes(), Fingerprint: Fingerprint(e)}, nil
}

// ACL returns an acl.cfg granting these investigators weight 1 each on the default entry with
// the given minimum weight.
func ACL(minimum int, inv ...*Investigator) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"default":{"minimumweight":%d,"investigators":{`, minimum)
	for i, x := range inv {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%q:{"fingerprint":%q,"weight":1}`, x.Name, x.Fingerprint)
	}
	b.WriteString("}}}")
	return b.Bytes()
}

// NewAction builds an unsigned action valid from a minute ago (MIG clients back-date
// validfrom by 60 s) for validity.
func NewAction(name string, validity time.Duration, ops ...action.Operation) action.Action {
	now := time.Now().UTC()
	return action.Action{
		ID: float64(now.UnixNano() / 1000), Name: name, Target: "status='online'",
		Description: action.Description{Author: "migfake"},
		ValidFrom:   now.Add(-time.Minute), ExpireAfter: now.Add(validity),
		Operations: ops, SyntaxVersion: action.SyntaxVersion,
	}
}

// SignAction appends one signature per investigator, in order.
func SignAction(a *action.Action, inv ...*Investigator) error {
	for _, x := range inv {
		sig, err := Sign(a, x.Entity)
		if err != nil {
			return fmt.Errorf("migfake: sign as %s: %w", x.Name, err)
		}
		a.PGPSignatures = append(a.PGPSignatures, sig)
	}
	return nil
}
