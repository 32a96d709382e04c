package pgp

import (
	"bytes"
	"crypto"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"time"
)

// Sentinel errors; their texts are go-crypto's, which MIG's agent logs.
var (
	// ErrUnknownIssuer: no key of the keyring may have made the signature.
	ErrUnknownIssuer = errors.New("openpgp: signature made by unknown entity")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature     = errors.New("openpgp: invalid signature")
	ErrKeyExpired       = errors.New("openpgp: key expired")
	ErrKeyRevoked       = errors.New("openpgp: signature made by revoked key")
	ErrSignatureExpired = errors.New("openpgp: signature expired")
)

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New()
	case crypto.SHA224:
		return sha256.New224()
	case crypto.SHA256:
		return sha256.New()
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	case crypto.SHA3_256:
		return sha3.New256()
	case crypto.SHA3_512:
		return sha3.New512()
	}
	return nil // unreachable: parseSignature only admits the hashes above
}

// keyHash starts the hash of a signature over the primary key, and sub when not nil
// (RFC 9580 §5.2.4: 0x99, two-octet length, key packet body).
func (k *pubKey) keyHash(sub *pubKey, s *Signature) hash.Hash {
	h := newHash(s.hash)
	for _, x := range []*pubKey{k, sub} {
		if x != nil {
			h.Write([]byte{0x99, byte(len(x.body) >> 8), byte(len(x.body))})
			h.Write(x.body)
		}
	}
	return h
}

// uidHash starts the hash of a certification of uid.
func (k *pubKey) uidHash(uid []byte, s *Signature) hash.Hash {
	h := k.keyHash(nil, s)
	n := len(uid)
	h.Write([]byte{0xb4, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	h.Write(uid)
	return h
}

// verifyHashed finishes h with the signature's trailer and checks it was made by k.
func (k *pubKey) verifyHashed(s *Signature, h hash.Hash) error {
	if k.verify == nil || !canSign(k.algo) {
		return fmt.Errorf("%w: public key cannot generate signatures (%s)", ErrBadSignature, k.why)
	}
	h.Write(s.suffix)
	digest := h.Sum(nil)
	if k.algo != s.algo {
		return fmt.Errorf("%w: public key (%s) and signature (%s) use different algorithms",
			ErrBadSignature, algoName(k.algo), algoName(s.algo))
	}
	// RFC 9580 §5.2.3: the two left octets of the hash. go-crypto skips this check for v4; a
	// mismatch means a corrupt or forged packet either way.
	if digest[0] != s.hashTag[0] || digest[1] != s.hashTag[1] {
		return stricterAs(ErrBadSignature, "hash tag doesn't match")
	}
	return k.verify(digest, s)
}

func verifyRSA(pub *rsa.PublicKey) func([]byte, *Signature) error {
	return func(digest []byte, s *Signature) error {
		sig := s.mpiS
		// MPIs drop leading zeros; PKCS #1 wants the full modulus length.
		if k := (pub.N.BitLen() + 7) / 8; len(sig) < k {
			p := make([]byte, k)
			copy(p[k-len(sig):], sig)
			sig = p
		}
		if err := rsa.VerifyPKCS1v15(pub, s.hash, digest, sig); err != nil {
			return fmt.Errorf("%w: RSA verification failure", ErrBadSignature)
		}
		return nil
	}
}

func verifyDSA(pub *dsa.PublicKey) func([]byte, *Signature) error {
	return func(digest []byte, s *Signature) error {
		if n := (pub.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		if !dsa.Verify(pub, digest, new(big.Int).SetBytes(s.mpiR), new(big.Int).SetBytes(s.mpiS)) {
			return fmt.Errorf("%w: DSA verification failure", ErrBadSignature)
		}
		return nil
	}
}

func verifyECDSA(pub *ecdsa.PublicKey) func([]byte, *Signature) error {
	return func(digest []byte, s *Signature) error {
		if !ecdsa.Verify(pub, digest, new(big.Int).SetBytes(s.mpiR), new(big.Int).SetBytes(s.mpiS)) {
			return fmt.Errorf("%w: ECDSA verification failure", ErrBadSignature)
		}
		return nil
	}
}

func verifyEd25519(pub ed25519.PublicKey) func([]byte, *Signature) error {
	return func(digest []byte, s *Signature) error {
		sig := s.raw
		if s.algo == algoEdDSA {
			// Legacy EdDSA carries R and S as MPIs, leading zeros stripped.
			if len(s.mpiR) > 32 || len(s.mpiS) > 32 {
				return fmt.Errorf("%w: EdDSA verification failure", ErrBadSignature)
			}
			sig = make([]byte, ed25519.SignatureSize)
			copy(sig[32-len(s.mpiR):32], s.mpiR)
			copy(sig[64-len(s.mpiS):], s.mpiS)
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, digest, sig) {
			return fmt.Errorf("%w: EdDSA verification failure", ErrBadSignature)
		}
		return nil
	}
}

// ParseSignature parses the first packet of a detached signature, which must be a v4
// signature we can read. Its CreationTime is what callers need before verifying.
func ParseSignature(raw []byte) (*Signature, error) {
	p, _, err := nextPacket(bytes.Clone(raw))
	if err != nil {
		return nil, fmt.Errorf("read signature packet: %w", err)
	}
	if p.tag != tagSignature {
		return nil, fmt.Errorf("read signature packet: first packet is of type %d, not a signature", p.tag)
	}
	s, err := parseSignature(p.body)
	if err != nil {
		return nil, fmt.Errorf("read signature packet: %w", err)
	}
	return s, nil
}

// candidate is a key that may have made a signature: the primary or a signing subkey.
type candidate struct {
	key *Key
	sub *subkey // nil: the primary key
}

func (c candidate) pub() *pubKey {
	if c.sub != nil {
		return c.sub.key
	}
	return c.key.primary
}

// selfSig is the signature giving c its flags and expiry.
func (c candidate) selfSig() *Signature {
	if c.sub != nil {
		return c.sub.binding
	}
	return c.key.selfSig
}

// candidates is go-crypto's KeysByIdUsage(id, KeyFlagSign): keys with that key ID whose
// self-signature carries key flags including "sign".
func candidates(keys []*Key, id uint64) []candidate {
	var out []candidate
	for _, k := range keys {
		if k == nil {
			continue
		}
		all := []candidate{{key: k}}
		for _, sk := range k.subkeys {
			all = append(all, candidate{key: k, sub: sk})
		}
		for _, c := range all {
			s := c.selfSig()
			if c.pub().keyID == id && s != nil && s.flagsValid && s.flags&flagSign != 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// unusableSubkey says which key's signing subkey id is when this package cannot verify with
// it (go-crypto could): still "unknown issuer", with the reason.
func unusableSubkey(keys []*Key, id uint64) error {
	for _, k := range keys {
		if k == nil {
			continue
		}
		for _, u := range k.unusable {
			if u.keyID == id {
				return stricterAs(ErrUnknownIssuer, fmt.Sprintf("made by signing subkey %016X of key %s, which this agent cannot verify with: %s",
					id, k.Fingerprint(), u.why))
			}
		}
	}
	return nil
}

// VerifyDetached checks a binary detached signature (one or more packets) over message
// against keys, judging expiry and revocation at time at, and returns the key that made it.
// It follows go-crypto's CheckDetachedSignature: signature packets are tried in order until
// one names a signing key of keys; none: ErrUnknownIssuer.
func VerifyDetached(keys []*Key, message, sig []byte, at time.Time) (*Key, error) {
	rest := sig
	var unusable error // a signing subkey we cannot verify with made a signature
	for {
		if len(rest) == 0 {
			if unusable != nil {
				return nil, unusable
			}
			return nil, ErrUnknownIssuer
		}
		p, r, err := nextPacket(rest)
		if err != nil {
			return nil, err
		}
		rest = r
		if p.tag == tagTrust || p.tag >= 40 || p.tag == tagMarker && string(p.body) == "PGP" {
			continue // dropped by go-crypto's packet reader
		}
		if p.tag != tagSignature {
			// go-crypto silently drops some of these (those its parser does not support):
			// a detached signature has no business holding them, so refuse.
			return nil, fmt.Errorf(structural+"non signature packet found (type %d): %w", p.tag, errStricter)
		}
		s, err := parseSignature(p.body)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !s.hasIssuer {
			return nil, errors.New(structural + "signature doesn't have an issuer")
		}
		cands := candidates(keys, s.issuerKeyID)
		if len(cands) == 0 {
			if unusable == nil {
				unusable = unusableSubkey(keys, s.issuerKeyID)
			}
			continue
		}
		if len(rest) != 0 {
			return nil, stricterf("%d bytes after the signature packet", len(rest))
		}
		return verifyWith(cands, message, s, at)
	}
}

func verifyWith(cands []candidate, message []byte, s *Signature, at time.Time) (*Key, error) {
	// SHA-1 message signatures are accepted, as go-crypto's CheckDetachedSignature (v1 API)
	// and MIG do (shared/protocols/mig.md §4.3: "RSA-1024/SHA-1 still verify"); its v2 API
	// refuses them by default. MD5 and RIPEMD-160 never get here (parseSignature skips them).
	if s.sigType != sigBinary && s.sigType != sigText {
		return nil, fmt.Errorf(unsupported+"unsupported signature type: %d", s.sigType)
	}
	if s.sigType == sigText {
		message = canonicalText(message)
	}
	err := ErrBadSignature
	for _, c := range cands {
		h := newHash(s.hash)
		h.Write(message)
		if err = c.pub().verifyHashed(s, h); err == nil {
			if err := checkDetails(c, s, at); err != nil {
				return nil, err // no signer with an error: a caller cannot mistake it for one
			}
			return c.key, nil
		}
	}
	return nil, err
}

// checkDetails is go-crypto's checkMessageSignatureDetails, in its order, plus the refusal
// of a signature older than its key (RFC 9580 §5.2.3.11 issuer key creation).
func checkDetails(c candidate, s *Signature, now time.Time) error {
	k := c.key
	primarySelf := k.selfSig
	if primarySelf == nil {
		// Only a revoked user ID: go-crypto would dereference nil here.
		return stricterf("key has no user ID self-signature")
	}
	check := []*Signature{s, primarySelf}
	if c.sub != nil {
		check = append(check, c.sub.binding, c.sub.binding.embedded)
	}
	for _, x := range check {
		if x == nil {
			return stricterf("subkey binding without back-signature")
		}
		if len(x.critNotation) > 0 {
			// go-crypto knows no notation unless configured, so any critical one refuses.
			return fmt.Errorf("%w: unknown critical notation: %s", ErrBadSignature, x.critNotation[0])
		}
	}
	if revoked(k.revocations, now) || (c.sub != nil && revoked(c.sub.revocations, now)) || revoked(k.primaryIDRevs, now) {
		return ErrKeyRevoked
	}
	if keyExpired(k.primary, primarySelf, now) {
		return ErrKeyExpired
	}
	if c.sub != nil && keyExpired(c.sub.key, c.sub.binding, now) {
		return ErrKeyExpired
	}
	for _, x := range check {
		if x.expired(now) {
			return ErrSignatureExpired
		}
	}
	if s.CreationTime.Unix() < c.pub().created.Unix() {
		return stricterAs(ErrBadSignature, "signature made before its key")
	}
	return nil
}

// canonicalText is go-crypto's canonical text hashing: a "\n" not preceded by "\r" becomes
// "\r\n"; everything else is unchanged.
func canonicalText(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/16)
	cr := false
	for _, c := range b {
		if c == '\n' && !cr {
			out = append(out, '\r')
		}
		out = append(out, c)
		cr = c == '\r' && !cr
	}
	return out
}
