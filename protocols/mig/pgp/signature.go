package pgp

import (
	"crypto"
	"errors"
	"fmt"
	"time"
)

// Signature types (RFC 9580 §5.2.1).
const (
	sigBinary         = 0x00
	sigText           = 0x01
	sigGenericCert    = 0x10
	sigPositiveCert   = 0x13
	sigSubkeyBinding  = 0x18
	sigPrimaryBinding = 0x19
	sigDirectKey      = 0x1f
	sigKeyRevocation  = 0x20
	sigSubkeyRevoke   = 0x28
	sigCertRevocation = 0x30
)

// Public-key algorithms (RFC 9580 §9.1).
const (
	algoRSA        = 1
	algoRSAEncrypt = 2
	algoRSASign    = 3
	algoElGamal    = 16
	algoDSA        = 17
	algoECDH       = 18
	algoECDSA      = 19
	algoEdDSA      = 22
	algoEd25519    = 27
	algoEd448      = 28
)

// Key flags (RFC 9580 §5.2.3.29).
const flagSign = 0x02

// revocationKeyCompromised is reason code 2: the key counts as revoked from the beginning.
const revocationKeyCompromised = 2

// errSkip marks a packet go-crypto's packet reader silently drops (its UnsupportedError):
// the packet is then invisible, exactly as if it were absent.
var errSkip = errors.New("openpgp: packet skipped")

func skipf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errSkip}, a...)...)
}

// Signature is a parsed v4 signature packet.
type Signature struct {
	sigType byte
	algo    byte
	hashID  byte
	hash    crypto.Hash
	// suffix is what v4 appends to the signed data: the hashed part of the packet and the
	// 0x04 0xff length trailer.
	suffix  []byte
	hashTag [2]byte

	// CreationTime is the hashed signature creation time.
	CreationTime time.Time
	sigLifetime  uint32 // seconds, 0: never expires
	keyLifetime  uint32 // seconds, 0: never expires
	issuerKeyID  uint64
	hasIssuer    bool
	issuerFP     []byte
	flagsValid   bool
	flags        byte
	isPrimaryID  *bool
	revReason    *byte
	critNotation []string // names of critical notations in the hashed area
	embedded     *Signature
	isEmbedded   bool // this is itself an embedded signature

	// Signature material: RSA has s only, DSA/ECDSA/EdDSA r and s, Ed25519 raw holds 64 bytes.
	mpiR, mpiS []byte
	raw        []byte
}

// supportedHash maps v4 hash IDs to hashes, as go-crypto's HashIdToHashWithSha1: MD5 (1) and
// RIPEMD-160 (3) are unknown there, so such packets are skipped.
func supportedHash(id byte) (crypto.Hash, bool) {
	switch id {
	case 2:
		return crypto.SHA1, true
	case 8:
		return crypto.SHA256, true
	case 9:
		return crypto.SHA384, true
	case 10:
		return crypto.SHA512, true
	case 11:
		return crypto.SHA224, true
	case 12:
		return crypto.SHA3_256, true
	case 14:
		return crypto.SHA3_512, true
	}
	return 0, false
}

// parseSignature parses one signature packet body. errSkip-wrapped errors mean go-crypto
// would drop the packet; other errors refuse the input. The order of checks follows
// go-crypto's packet.Signature.parse, because it decides which of the two applies.
func parseSignature(body []byte) (*Signature, error) {
	return parseSignatureAt(body, false)
}

// parseSignatureAt parses a signature, embedded in another one when embedded is set.
func parseSignatureAt(body []byte, embedded bool) (*Signature, error) {
	r := &reader{b: body}
	ver := r.byte()
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: signature: %w", r.err)
	}
	switch ver {
	case 4:
	case 6:
		return nil, stricterf("v6 signature")
	default:
		return nil, skipf("signature packet version %d", ver)
	}
	s := &Signature{isEmbedded: embedded}
	hdr := r.bytes(5)
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: signature: %w", r.err)
	}
	s.sigType, s.algo, s.hashID = hdr[0], hdr[1], hdr[2]
	switch s.algo {
	case algoRSA, algoRSASign, algoDSA, algoECDSA, algoEdDSA, algoEd25519, algoEd448:
	default:
		return nil, skipf("public key algorithm %d", s.algo)
	}
	var ok bool
	if s.hash, ok = supportedHash(s.hashID); !ok {
		return nil, skipf("hash function %d", s.hashID)
	}
	hashedLen := int(hdr[3])<<8 | int(hdr[4])
	hashed := r.bytes(hashedLen)
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: signature hashed area: %w", r.err)
	}
	// suffix = version..hashed subpackets, then 0x04 0xff and the four-octet length of that.
	n := 6 + hashedLen
	s.suffix = make([]byte, 0, n+6)
	s.suffix = append(s.suffix, body[:n]...)
	s.suffix = append(s.suffix, 4, 0xff, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	if err := s.parseSubpackets(hashed, true); err != nil {
		return nil, err
	}
	unhashedLen := r.uint16()
	unhashed := r.bytes(unhashedLen)
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: signature unhashed area: %w", r.err)
	}
	if err := s.parseSubpackets(unhashed, false); err != nil {
		return nil, err
	}
	copy(s.hashTag[:], r.bytes(2))
	switch s.algo {
	case algoRSA, algoRSASign:
		s.mpiS = r.mpi()
	case algoDSA, algoECDSA, algoEdDSA:
		s.mpiR = r.mpi()
		s.mpiS = r.mpi()
	case algoEd25519:
		s.raw = r.bytes(64)
	case algoEd448:
		s.raw = r.bytes(114)
	}
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: signature material: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, stricterf("%d bytes after the signature material", len(r.b))
	}
	return s, nil
}

// Subpacket types (RFC 9580 §5.2.3.7).
const (
	spCreationTime   = 2
	spSigExpiration  = 3
	spExportable     = 4
	spTrust          = 5
	spRegexp         = 6
	spKeyExpiration  = 9
	spIssuer         = 16
	spNotation       = 20
	spPrimaryUserID  = 25
	spKeyFlags       = 27
	spRevReason      = 29
	spEmbeddedSig    = 32
	spIssuerFP       = 33
	spIntendedRecip  = 35
	spPrefCipherSuit = 39
)

// knownSubpacket lists the types go-crypto understands: an unknown one marked critical in the
// hashed area makes it drop the signature.
func knownSubpacket(t byte) bool {
	switch t {
	case spCreationTime, spSigExpiration, spExportable, spTrust, spRegexp, spKeyExpiration,
		11, spIssuer, spNotation, 21, 22, 23, 24, spPrimaryUserID, 26, spKeyFlags, 28,
		spRevReason, 30, spEmbeddedSig, spIssuerFP, spIntendedRecip, spPrefCipherSuit:
		return true
	}
	return false
}

func (s *Signature) parseSubpackets(b []byte, hashed bool) error {
	for len(b) > 0 {
		var n int
		switch c := b[0]; {
		case c < 192:
			n, b = int(c), b[1:]
		case c < 255:
			if len(b) < 2 {
				return errors.New(structural + "signature subpacket truncated")
			}
			n, b = (int(c)-192)<<8+int(b[1])+192, b[2:]
		default:
			if len(b) < 5 {
				return errors.New(structural + "signature subpacket truncated")
			}
			n = int(uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4]))
			b = b[5:]
		}
		if n < 0 || n > len(b) {
			return errors.New(structural + "signature subpacket truncated")
		}
		sp := b[:n]
		b = b[n:]
		if len(sp) == 0 {
			return errors.New(structural + "zero length signature subpacket")
		}
		if err := s.subpacket(sp[0]&0x7f, sp[0]&0x80 != 0, sp[1:], hashed); err != nil {
			return err
		}
	}
	if s.CreationTime.IsZero() {
		return errors.New(structural + "no creation time in signature")
	}
	return nil
}

// subpacket applies one subpacket with go-crypto's checks. In the unhashed area only the
// issuer, issuer fingerprint and embedded signature are read: anything else there is not
// covered by the signature and is ignored, critical or not.
func (s *Signature) subpacket(t byte, critical bool, d []byte, hashed bool) error {
	if !hashed && t != spIssuer && t != spIssuerFP && t != spEmbeddedSig {
		return nil
	}
	be32 := func() uint32 { return uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3]) }
	switch t {
	case spCreationTime:
		if len(d) != 4 {
			return errors.New(structural + "signature creation time not four bytes")
		}
		s.CreationTime = time.Unix(int64(be32()), 0)
	case spSigExpiration:
		if len(d) != 4 {
			return errors.New(structural + "expiration subpacket with bad length")
		}
		s.sigLifetime = be32()
	case spExportable:
		if len(d) == 0 {
			// go-crypto indexes past the end here (a panic): refuse.
			return stricterf("empty exportable subpacket")
		}
		if d[0] == 0 {
			return skipf("signature with non-exportable certification")
		}
	case spTrust:
		if len(d) != 2 {
			return errors.New(structural + "trust subpacket with bad length")
		}
	case spRegexp:
		if len(d) == 0 || d[len(d)-1] != 0 {
			return errors.New(structural + "regular expression subpacket not NUL-terminated")
		}
	case spKeyExpiration:
		if len(d) != 4 {
			return errors.New(structural + "key expiration subpacket with bad length")
		}
		s.keyLifetime = be32()
	case spIssuer:
		if len(d) != 8 {
			return errors.New(structural + "issuer subpacket with bad length")
		}
		s.issuerKeyID = uint64(be32())<<32 | uint64(uint32(d[4])<<24|uint32(d[5])<<16|uint32(d[6])<<8|uint32(d[7]))
		s.hasIssuer = true
	case spNotation:
		if len(d) < 8 {
			return errors.New(structural + "notation data subpacket with bad length")
		}
		nl, vl := int(d[4])<<8|int(d[5]), int(d[6])<<8|int(d[7])
		if len(d) != nl+vl+8 {
			return errors.New(structural + "notation data subpacket with bad length")
		}
		if critical {
			s.critNotation = append(s.critNotation, string(d[8:8+nl]))
		}
	case spPrimaryUserID:
		if len(d) != 1 {
			return errors.New(structural + "primary user id subpacket with bad length")
		}
		v := d[0] > 0
		s.isPrimaryID = &v
	case spKeyFlags:
		// go-crypto only ever sets flags, so repeated subpackets add up.
		s.flagsValid = true
		if len(d) > 0 {
			s.flags |= d[0]
		}
	case spRevReason:
		if len(d) == 0 {
			return errors.New(structural + "empty revocation reason subpacket")
		}
		r := d[0]
		s.revReason = &r
	case spEmbeddedSig:
		if s.embedded != nil {
			return errors.New(structural + "cannot have multiple embedded signatures")
		}
		if s.isEmbedded {
			// A back-signature never embeds another; nesting would only cost memory.
			return stricterf("embedded signature inside an embedded signature")
		}
		e, err := parseSignatureAt(d, true)
		if err != nil {
			return err
		}
		if e.sigType != sigPrimaryBinding {
			return structuralf("cross-signature has unexpected type %d", e.sigType)
		}
		s.embedded = e
	case spIssuerFP:
		if len(d) == 0 {
			return errors.New(structural + "empty issuer fingerprint subpacket")
		}
		v, l := d[0], len(d)-1
		if v >= 5 && l != 32 || v < 5 && l != 20 {
			return errors.New(structural + "bad fingerprint length")
		}
		s.issuerFP = append([]byte(nil), d[1:]...)
		if v >= 5 {
			d = d[1:9]
		} else {
			d = d[13:21]
		}
		s.issuerKeyID = uint64(be32())<<32 | uint64(uint32(d[4])<<24|uint32(d[5])<<16|uint32(d[6])<<8|uint32(d[7]))
		s.hasIssuer = true
	case spIntendedRecip:
		if len(d) < 1 {
			return errors.New(structural + "invalid intended recipient fingerprint length")
		}
		v, l := d[0], len(d)-1
		if v >= 5 && l != 32 || v < 5 && l != 20 {
			return errors.New(structural + "invalid fingerprint length")
		}
	case spPrefCipherSuit:
		if len(d)%2 != 0 {
			return errors.New(structural + "invalid aead cipher suite length")
		}
	default:
		if critical && !knownSubpacket(t) {
			return skipf("unknown critical signature subpacket type %d", t)
		}
	}
	return nil
}

// issuedBy is go-crypto's CheckKeyIdOrFingerprint: the fingerprint decides when present.
func (s *Signature) issuedBy(k *pubKey) bool {
	if len(s.issuerFP) >= 20 {
		return string(s.issuerFP) == string(k.fp[:])
	}
	return s.hasIssuer && s.issuerKeyID == k.keyID
}

// expired is go-crypto's SigExpired: made after now, or past its lifetime, at second
// granularity.
func (s *Signature) expired(now time.Time) bool {
	c := s.CreationTime.Unix()
	if c > now.Unix() {
		return true
	}
	return s.sigLifetime != 0 && now.Unix() > c+int64(s.sigLifetime)
}
