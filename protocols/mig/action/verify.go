package action

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/pgp"
)

// Message prefixes MIG's agent puts in front of its verification errors.
const (
	validationPrefix = "action validation failed: "
	aclPrefix        = "action ACL verification failed: "
	fingerprintPfx   = aclPrefix + "failed to retrieve fingerprint from signatures: GetFingerprintFromSignature() -> "
)

// Verifier checks actions before anything runs (shared/protocols/mig.md §4). It is safe for
// concurrent use once configured.
type Verifier struct {
	Keyring []*pgp.Key
	ACL     ACL
	// OnlyVerifyPubKey skips the ACL (MIG's only_verify_pubkey): any valid signature by a
	// keyring key authorises every module.
	OnlyVerifyPubKey bool
	Now              func() time.Time // nil: time.Now
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify runs MIG's checks in MIG's order, first failure wins: fields and syntax version,
// validity window, every signature against the keyring, then the weighted ACL of every
// operation. It does not modify a. Failures are *Error values (see the Err* kinds).
func (v *Verifier) Verify(a *Action) error {
	if a == nil {
		return reject(ErrNoOperations, validationPrefix+"action is empty", nil)
	}
	now := v.now()
	switch {
	case a.Name == "":
		return reject(ErrNameEmpty, validationPrefix+"action name is empty", nil)
	case a.Target == "":
		return reject(ErrTargetEmpty, validationPrefix+"action target is empty", nil)
	case a.SyntaxVersion != SyntaxVersion:
		// "wring" is MIG's spelling; operators grep for it.
		return reject(ErrSyntaxVersion, fmt.Sprintf(validationPrefix+"wring syntax version, expected %d", SyntaxVersion), nil)
	case a.ValidFrom.After(a.ExpireAfter):
		return reject(ErrWindowInverted, validationPrefix+"action expireafter is set before action validfrom", nil)
	case now.After(a.ExpireAfter):
		return reject(ErrExpired, validationPrefix+"action expireafter is in the past", nil)
	case a.Operations == nil:
		return reject(ErrNoOperations, validationPrefix+"action operations is empty", nil)
	case len(a.PGPSignatures) == 0:
		return reject(ErrNoSignatures, validationPrefix+"action pgpsignatures is empty", nil)
	case now.Before(a.ValidFrom):
		return reject(ErrNotYetValid, "Action ValidFrom date is in the future", nil)
	}

	legacy, err := signedString(a, true)
	if err != nil {
		return reject(ErrSignedString, aclPrefix+"failed to stringify action: "+err.Error(), err)
	}
	short, err := signedString(a, false)
	if err != nil {
		return reject(ErrSignedString, aclPrefix+"failed to stringify action: "+err.Error(), err)
	}
	fps := make([]string, 0, len(a.PGPSignatures))
	for _, s := range a.PGPSignatures {
		fp, err := v.checkSignature(s, legacy, short, now)
		if err != nil {
			return err
		}
		fps = append(fps, fp)
	}
	if v.OnlyVerifyPubKey {
		return nil
	}
	acl := v.ACL
	if acl == nil {
		acl = DenyAllACL()
	}
	for _, op := range a.Operations {
		if err := acl.check(op.Module, fps); err != nil {
			err.Msg = aclPrefix + err.Msg
			return err
		}
	}
	return nil
}

// checkSignature verifies one one-line signature over the signed string and returns the
// signer's primary key fingerprint. When the legacy form fails and the operations hold
// U+0008/U+000C (short differs), the \b/\f form is tried once: same data, no extra authority.
func (v *Verifier) checkSignature(s string, legacy, short []byte, now time.Time) (fp string, rej *Error) {
	// The signature bytes are attacker-controlled and reach the packet parser: a bug there
	// must refuse the action, not crash the agent.
	defer func() {
		if r := recover(); r != nil {
			fp, rej = "", reject(ErrSignatureEncoding, fmt.Sprintf("%sunparsable signature: %v", fingerprintPfx, r), nil)
		}
	}()
	raw, err := ParseSignature(s)
	if err != nil {
		return "", reject(ErrSignatureEncoding, fingerprintPfx+err.Error(), err)
	}
	sig, err := pgp.ParseSignature(raw)
	if err != nil {
		return "", reject(ErrSignatureEncoding, fingerprintPfx+err.Error(), err)
	}
	// Verification uses the signature's creation time as the clock when it is later than now:
	// go-crypto, whose rules pgp keeps, treats a signature made "in the future" as expired,
	// and an investigator's clock slightly ahead of the agent's must not fail the action (MIG's
	// verifier did not check this). Key expiry and revocation are monotonic, so judging them
	// at the later time is never more lenient.
	at := now
	if sig.CreationTime.After(at) {
		at = sig.CreationTime
	}
	signer, err := pgp.VerifyDetached(v.Keyring, legacy, raw, at)
	if err != nil && !errors.Is(err, pgp.ErrUnknownIssuer) && !bytes.Equal(legacy, short) {
		signer, err = pgp.VerifyDetached(v.Keyring, short, raw, at)
	}
	if err != nil {
		kind := ErrBadSignature
		if errors.Is(err, pgp.ErrUnknownIssuer) {
			kind = ErrUnknownSigner
		}
		return "", reject(kind, fingerprintPfx+err.Error(), err)
	}
	return Fingerprint(signer), nil
}
