package migfake

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// Sign signs the action's signed string with e (private key decrypted) the way MIG's client
// does: detached v4 binary signature, SHA-256, armored then reduced to one line. The
// signature is not appended to a.PGPSignatures. It lives here, not in package action, so the
// agent links no signing code.
func Sign(a *action.Action, e *openpgp.Entity) (string, error) {
	if e == nil || e.PrivateKey == nil {
		return "", errors.New("sign action: entity has no private key")
	}
	str, err := action.SignedString(a)
	if err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	return SignBytes(str, e)
}

// SignBytes signs str as Sign does.
func SignBytes(str []byte, e *openpgp.Entity) (string, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(str), nil); err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	line, err := action.OneLine(buf.String())
	if err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	return line, nil
}

// Fingerprint is the upper-case hex fingerprint of e's primary key, as MIG's ACL lists it.
func Fingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}
