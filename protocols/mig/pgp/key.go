package pgp

import (
	"bytes"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Bounds on key material: far above anything an investigator uses, far below what would let
// a hostile key file make verification slow.
const (
	maxModulusBits = 8192
	maxKeyFile     = 1 << 20
)

// OIDs of the curves we verify with (RFC 9580 §9.2).
const (
	oidP256    = "\x2a\x86\x48\xce\x3d\x03\x01\x07"
	oidP384    = "\x2b\x81\x04\x00\x22"
	oidP521    = "\x2b\x81\x04\x00\x23"
	oidEd25519 = "\x2b\x06\x01\x04\x01\xda\x47\x0f\x01"
)

// pubKey is one v4 key packet (primary or subkey).
type pubKey struct {
	algo    byte
	body    []byte // the packet body, hashed as 0x99 || len || body
	created time.Time
	fp      [20]byte
	keyID   uint64
	// verify is nil for a key we cannot sign with (unsupported algorithm or curve).
	verify func(digest []byte, s *Signature) error
	why    string // why verify is nil
}

// parsePubKey parses a v4 key packet body. A key we cannot verify with gets verify == nil
// and the reason; a malformed key of an algorithm we support is an error. errSkip-wrapped
// errors mean go-crypto would drop the packet.
func parsePubKey(body []byte) (*pubKey, error) {
	if len(body) > maxPacketBody {
		return nil, stricterf("key packet of %d bytes", len(body))
	}
	r := &reader{b: body}
	ver := r.byte()
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: key packet: %w", r.err)
	}
	switch ver {
	case 4:
	case 6:
		return nil, stricterf("v6 key")
	default:
		return nil, skipf("public key version %d", ver)
	}
	created := r.uint32()
	algo := r.byte()
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: key packet: %w", r.err)
	}
	k := &pubKey{algo: algo, body: body, created: time.Unix(int64(created), 0)}
	h := sha1.New()
	h.Write([]byte{0x99, byte(len(body) >> 8), byte(len(body))})
	h.Write(body)
	copy(k.fp[:], h.Sum(nil))
	k.keyID = uint64(k.fp[12])<<56 | uint64(k.fp[13])<<48 | uint64(k.fp[14])<<40 | uint64(k.fp[15])<<32 |
		uint64(k.fp[16])<<24 | uint64(k.fp[17])<<16 | uint64(k.fp[18])<<8 | uint64(k.fp[19])
	var err error
	switch algo {
	case algoRSA, algoRSASign:
		err = k.parseRSA(r)
	case algoDSA:
		err = k.parseDSA(r)
	case algoECDSA:
		err = k.parseECDSA(r)
	case algoEdDSA:
		err = k.parseEdDSA(r)
	case algoEd25519:
		pt := r.bytes(ed25519.PublicKeySize)
		if r.err != nil {
			return nil, fmt.Errorf("openpgp: Ed25519 key: %w", r.err)
		}
		k.verify = verifyEd25519(ed25519.PublicKey(pt))
	default:
		k.why = "public key algorithm " + algoName(algo)
		if !skipMaterial(algo, r) {
			return k, nil // unknown format: hashed as it is
		}
	}
	if err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, fmt.Errorf("openpgp: %s key: %w", algoName(algo), r.err)
	}
	// go-crypto reads the fields and leaves the rest, misreading the packets that follow;
	// fingerprints and self-signatures would then cover different bytes. Refuse.
	if len(r.b) != 0 {
		return nil, stricterf("%d bytes after the %s key material", len(r.b), algoName(algo))
	}
	return k, nil
}

// skipMaterial reads the key material of algorithms we never verify with, so a key packet
// longer than its fields is caught; false when the format is unknown to us.
func skipMaterial(algo byte, r *reader) bool {
	switch algo {
	case algoRSAEncrypt:
		r.mpi()
		r.mpi()
	case algoElGamal:
		r.mpi()
		r.mpi()
		r.mpi()
	case algoECDH:
		// Curve OID, point, KDF parameters; reserved lengths 0 and 0xff: format unknown.
		for _, field := range []string{"oid", "point", "kdf"} {
			if field == "point" {
				r.mpi()
				continue
			}
			l := r.byte()
			if l == 0 || l == 0xff {
				return false
			}
			r.bytes(int(l))
		}
	case 25: // X25519
		r.bytes(32)
	case 26: // X448
		r.bytes(56)
	case algoEd448:
		r.bytes(57)
	default:
		return false
	}
	return true
}

func algoName(a byte) string {
	switch a {
	case algoRSA, algoRSASign:
		return "RSA"
	case algoRSAEncrypt:
		return "RSA encrypt-only (2)"
	case algoElGamal:
		return "ElGamal (16)"
	case algoDSA:
		return "DSA"
	case algoECDH:
		return "ECDH (18)"
	case algoECDSA:
		return "ECDSA"
	case algoEdDSA:
		return "EdDSA"
	case 25:
		return "X25519 (25)"
	case 26:
		return "X448 (26)"
	case algoEd25519:
		return "Ed25519"
	case algoEd448:
		return "Ed448 (28)"
	}
	return fmt.Sprintf("%d", a)
}

func (k *pubKey) parseRSA(r *reader) error {
	n, e := r.mpi(), r.mpi()
	if r.err != nil {
		return fmt.Errorf("openpgp: RSA key: %w", r.err)
	}
	if len(e) > 3 {
		// go-crypto drops such a packet (UnsupportedError): keep it unusable.
		k.why = "RSA public exponent larger than 24 bits"
		return nil
	}
	if bitLen(n) > maxModulusBits {
		return stricterf("RSA modulus of %d bits (max %d)", bitLen(n), maxModulusBits)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	for _, c := range e {
		pub.E = pub.E<<8 | int(c)
	}
	k.verify = verifyRSA(pub)
	return nil
}

func (k *pubKey) parseDSA(r *reader) error {
	p, q, g, y := r.mpi(), r.mpi(), r.mpi(), r.mpi()
	if r.err != nil {
		return fmt.Errorf("openpgp: DSA key: %w", r.err)
	}
	if bitLen(p) > maxModulusBits {
		return stricterf("DSA modulus of %d bits (max %d)", bitLen(p), maxModulusBits)
	}
	pub := &dsa.PublicKey{
		Parameters: dsa.Parameters{P: new(big.Int).SetBytes(p), Q: new(big.Int).SetBytes(q), G: new(big.Int).SetBytes(g)},
		Y:          new(big.Int).SetBytes(y),
	}
	k.verify = verifyDSA(pub)
	return nil
}

// readOID reads a curve OID with go-crypto's rules: lengths 0 and 0xff are reserved.
func readOID(r *reader) (string, error) {
	l := r.byte()
	if r.err == nil && (l == 0 || l == 0xff) {
		return "", skipf("reserved OID length %d", l)
	}
	oid := r.bytes(int(l))
	if r.err != nil {
		return "", fmt.Errorf("openpgp: curve OID: %w", r.err)
	}
	return string(oid), nil
}

func (k *pubKey) parseECDSA(r *reader) error {
	oid, err := readOID(r)
	if err != nil {
		k.why = "ECDSA curve OID: " + err.Error()
		return nil
	}
	var c elliptic.Curve
	switch oid {
	case oidP256:
		c = elliptic.P256()
	case oidP384:
		c = elliptic.P384()
	case oidP521:
		c = elliptic.P521()
	default:
		k.why = "ECDSA curve " + curveName(oid) + " (only NIST P-256, P-384, P-521)"
		r.mpi()
		return nil
	}
	pt := r.mpi()
	if r.err != nil {
		return fmt.Errorf("openpgp: ECDSA key: %w", r.err)
	}
	// The point must be uncompressed and on the curve, as go-crypto's elliptic.Unmarshal wants.
	pub, err := ecdsa.ParseUncompressedPublicKey(c, pt)
	if err != nil {
		return fmt.Errorf("openpgp: ECDSA key on %s: %w", c.Params().Name, err)
	}
	k.verify = verifyECDSA(pub)
	return nil
}

func (k *pubKey) parseEdDSA(r *reader) error {
	oid, err := readOID(r)
	if err != nil {
		k.why = "EdDSA curve OID: " + err.Error()
		return nil
	}
	if oid != oidEd25519 {
		k.why = "EdDSA curve " + curveName(oid) + " (only Ed25519)"
		r.mpi()
		return nil
	}
	pt := r.mpi()
	if r.err != nil {
		return fmt.Errorf("openpgp: EdDSA key: %w", r.err)
	}
	if len(pt) == 0 {
		return errors.New(structural + "empty EdDSA public key")
	}
	if pt[0] != 0x40 {
		k.why = fmt.Sprintf("EdDSA point compression 0x%02x", pt[0])
		return nil
	}
	if len(pt) != 1+ed25519.PublicKeySize {
		return errors.New("openpgp: EdDSA key: failed to parse EC point")
	}
	k.verify = verifyEd25519(ed25519.PublicKey(pt[1:]))
	return nil
}

// curveName names the curves go-crypto knows and we do not verify with, else gives the OID.
func curveName(oid string) string {
	switch oid {
	case "\x2b\x24\x03\x03\x02\x08\x01\x01\x07":
		return "brainpoolP256r1"
	case "\x2b\x24\x03\x03\x02\x08\x01\x01\x0b":
		return "brainpoolP384r1"
	case "\x2b\x24\x03\x03\x02\x08\x01\x01\x0d":
		return "brainpoolP512r1"
	case "\x2b\x81\x04\x00\x0a":
		return "secp256k1"
	case "\x2b\x65\x71":
		return "Ed448"
	}
	return "with OID " + hex.EncodeToString([]byte(oid))
}

func bitLen(b []byte) int {
	return new(big.Int).SetBytes(b).BitLen()
}

// canSign is go-crypto's PublicKey.CanSign: by algorithm only.
func canSign(algo byte) bool {
	return algo != algoRSAEncrypt && algo != algoElGamal && algo != algoECDH
}

// Key is an investigator's public key: a v4 primary key with its certified user IDs and
// subkeys, as read by ReadArmoredKey.
type Key struct {
	primary *pubKey
	// selfSig is the self-signature of the primary user ID (go-crypto's
	// PrimarySelfSignature); primaryIDRevs are that user ID's revocations.
	selfSig       *Signature
	primaryIDRevs []*Signature
	revocations   []*Signature
	subkeys       []*subkey
	// unusable lists signing subkeys we cannot verify with, to say so when one signed.
	unusable []unusableSigner
}

type unusableSigner struct {
	keyID uint64
	why   string
}

type subkey struct {
	key         *pubKey
	binding     *Signature
	revocations []*Signature
}

// Fingerprint is the upper-case hex v4 fingerprint of the primary key, as MIG's ACL lists it.
func (k *Key) Fingerprint() string {
	return strings.ToUpper(hex.EncodeToString(k.primary.fp[:]))
}

// CreationTime is the primary key's creation time.
func (k *Key) CreationTime() time.Time { return k.primary.created }

// identity is a user ID with a verified self-certification.
type identity struct {
	id      string
	selfSig *Signature
	revs    []*Signature
}

// packetItem is one visible packet of a key: go-crypto's packet reader drops some (see
// errSkip) before its entity reader sees the sequence, and so do we.
type packetItem struct {
	tag byte
	key *pubKey
	sig *Signature
	uid []byte
}

// ReadArmoredKey reads one armored "PGP PUBLIC KEY BLOCK" holding exactly one v4 primary
// key, and checks its self-signatures as go-crypto's ReadArmoredKeyRing does.
func ReadArmoredKey(b []byte) (*Key, error) {
	if len(b) > maxKeyFile {
		return nil, stricterf("key file of %d bytes (max %d)", len(b), maxKeyFile)
	}
	raw, err := dearmor(b)
	if err != nil {
		return nil, err
	}
	return ReadKey(raw)
}

// ReadKey reads one binary (transferable) public key; see ReadArmoredKey.
func ReadKey(raw []byte) (*Key, error) {
	if len(raw) > maxKeyFile {
		return nil, stricterf("key of %d bytes (max %d)", len(raw), maxKeyFile)
	}
	// The key keeps slices of its packets: own them, whatever the caller does with raw.
	items, err := visiblePackets(bytes.Clone(raw))
	if err != nil {
		return nil, err
	}
	return readEntity(items)
}

func visiblePackets(raw []byte) ([]packetItem, error) {
	var items []packetItem
	for len(raw) > 0 {
		p, rest, err := nextPacket(raw)
		if err != nil {
			return nil, err
		}
		raw = rest
		it := packetItem{tag: p.tag}
		switch p.tag {
		case tagSecretKey, tagSecretSubkey:
			return nil, stricterf("secret key material in a public key file")
		case tagPublicKey, tagPublicSubkey:
			k, err := parsePubKey(p.body)
			if errors.Is(err, errSkip) {
				continue
			}
			if err != nil {
				return nil, err
			}
			it.key = k
		case tagSignature:
			s, err := parseSignature(p.body)
			if errors.Is(err, errSkip) {
				continue
			}
			if err != nil {
				return nil, err
			}
			it.sig = s
		case tagUserID:
			it.uid = p.body
		case tagUserAttribute:
			// Photo IDs: ignored, as go-crypto's entity reader does, once well framed.
			if !wellFramedAttribute(p.body) {
				return nil, stricterf("malformed user attribute packet")
			}
		case tagMarker:
			if string(p.body) != "PGP" {
				return nil, stricterf("malformed marker packet")
			}
			continue
		case tagTrust:
			continue
		case 1, 3, 4, 8, 9, 11, 18, 19, 20, 21:
			// Message packets: go-crypto parses and ignores some of them; a key has no use
			// for any, so refuse rather than mirror each parser.
			return nil, stricterf("packet of type %d in a public key", p.tag)
		default:
			if p.tag < 40 {
				return nil, fmt.Errorf("openpgp: unknown critical packet type: %d", p.tag)
			}
			continue
		}
		items = append(items, it)
	}
	return items, nil
}

// wellFramedAttribute checks a user attribute's subpacket framing (RFC 9580 §5.12); go-crypto
// refuses the key when it is broken.
func wellFramedAttribute(b []byte) bool {
	for len(b) > 0 {
		var n int
		switch c := b[0]; {
		case c < 192:
			n, b = int(c), b[1:]
		case c < 255:
			if len(b) < 2 {
				return false
			}
			n, b = (int(c)-192)<<8+int(b[1])+192, b[2:]
		default:
			if len(b) < 5 {
				return false
			}
			n, b = int(uint32(b[1])<<24|uint32(b[2])<<16|uint32(b[3])<<8|uint32(b[4])), b[5:]
		}
		if n <= 0 || n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}

// readEntity mirrors go-crypto's ReadEntity for one v4 key.
func readEntity(items []packetItem) (*Key, error) {
	if len(items) == 0 || items[0].tag != tagPublicKey {
		return nil, errors.New(structural + "first packet was not a public key")
	}
	k := &Key{primary: items[0].key}
	if !canSign(k.primary.algo) {
		return nil, structuralf("primary key cannot be used for signatures (%s)", algoName(k.primary.algo))
	}
	if k.primary.verify == nil {
		return nil, stricterf("primary key: %s", k.primary.why)
	}
	var ids []*identity
	var revocations []*Signature
	for i := 1; i < len(items); {
		it := items[i]
		i++
		switch it.tag {
		case tagUserID:
			id := &identity{id: string(it.uid)}
			attached := false
			for ; i < len(items) && items[i].tag == tagSignature; i++ {
				s := items[i].sig
				switch {
				case s.sigType >= sigGenericCert && s.sigType <= sigPositiveCert, s.sigType == sigCertRevocation:
				default:
					return nil, errors.New(structural + "user ID signature with wrong type")
				}
				if !s.issuedBy(k.primary) {
					continue // third-party certification: not ours to judge
				}
				if err := k.primary.verifyHashed(s, k.primary.uidHash(it.uid, s)); err != nil {
					return nil, fmt.Errorf(structural+"user ID self-signature invalid: %w", err)
				}
				if s.sigType == sigCertRevocation {
					id.revs = append(id.revs, s)
				} else if id.selfSig == nil || s.CreationTime.After(id.selfSig.CreationTime) {
					id.selfSig = s
				}
				attached = true
			}
			if attached && id.selfSig == nil {
				// go-crypto keeps such an identity and then may dereference its missing
				// self-signature; a user ID revoked but never certified is not worth mirroring.
				return nil, stricterf("user ID %.40q revoked but never certified", id.id)
			}
			if attached {
				// go-crypto keys identities by name: a repeated user ID replaces the earlier.
				ids = replaceIdentity(ids, id)
			}
		case tagSignature:
			if it.sig.sigType == sigKeyRevocation {
				revocations = append(revocations, it.sig)
			}
		case tagPublicKey:
			return nil, stricterf("more than one primary key")
		case tagPublicSubkey:
			sk, next, err := k.readSubkey(it.key, items, i)
			if err != nil {
				return nil, err
			}
			i = next
			if sk != nil {
				k.subkeys = append(k.subkeys, sk)
			}
		}
	}
	if len(ids) == 0 {
		return nil, errors.New(structural + "v4 entity without any identities")
	}
	for _, s := range revocations {
		if err := k.primary.verifyHashed(s, k.primary.keyHash(nil, s)); err != nil {
			return nil, fmt.Errorf(structural+"revocation signature signed by alternate key: %w", err)
		}
		k.revocations = append(k.revocations, s)
	}
	if p := primaryIdentity(ids); p != nil {
		k.selfSig, k.primaryIDRevs = p.selfSig, p.revs
	}
	return k, nil
}

func replaceIdentity(ids []*identity, id *identity) []*identity {
	for i, x := range ids {
		if x.id == id.id {
			ids[i] = id
			return ids
		}
	}
	return append(ids, id)
}

// primaryIdentity is go-crypto's PrimaryIdentity: fewest revocations, then marked primary,
// then the latest self-signature. go-crypto walks a map, so its ties are random; ours keep
// the first in the file.
func primaryIdentity(ids []*identity) *identity {
	var best *identity
	for _, id := range ids {
		if best == nil || preferIdentity(best, id) {
			best = id
		}
	}
	return best
}

func preferIdentity(cur, cand *identity) bool {
	if len(cur.revs) != len(cand.revs) {
		return len(cur.revs) > len(cand.revs)
	}
	// Every identity kept by readEntity has a self-signature.
	curP := cur.selfSig.isPrimaryID != nil && *cur.selfSig.isPrimaryID
	candP := cand.selfSig.isPrimaryID != nil && *cand.selfSig.isPrimaryID
	if curP != candP {
		return candP
	}
	return cand.selfSig.CreationTime.After(cur.selfSig.CreationTime)
}

// readSubkey mirrors go-crypto's addSubkey: every following signature must be a binding or
// a subkey revocation made by the primary key, and at least one binding must exist.
func (k *Key) readSubkey(key *pubKey, items []packetItem, i int) (*subkey, int, error) {
	sk := &subkey{key: key}
	usable := key.verify != nil && canSign(key.algo)
	seen, claimsSign := false, false
	for ; i < len(items) && items[i].tag == tagSignature; i++ {
		s := items[i].sig
		seen = true
		if s.sigType != sigSubkeyBinding && s.sigType != sigSubkeyRevoke {
			return nil, 0, errors.New(structural + "subkey signature with wrong type")
		}
		if err := k.primary.verifyHashed(s, k.primary.keyHash(key, s)); err != nil {
			return nil, 0, fmt.Errorf(structural+"subkey signature invalid: %w", err)
		}
		if s.flagsValid && s.flags&flagSign != 0 {
			// A signing subkey must sign back (0x19), or anyone could claim our subkey.
			if s.embedded == nil {
				return nil, 0, errors.New(structural + "signing subkey is missing cross-signature")
			}
			if !canSign(key.algo) {
				return nil, 0, fmt.Errorf(structural+"signing flag on a %s subkey", algoName(key.algo))
			}
			if !usable {
				// We cannot check the back-signature: go-crypto may accept this key, we just
				// never use the subkey.
				claimsSign = true
				continue
			}
			if err := key.verifyHashed(s.embedded, k.primary.keyHash(key, s.embedded)); err != nil {
				return nil, 0, fmt.Errorf(structural+"error while verifying cross-signature: %w", err)
			}
		}
		if s.sigType == sigSubkeyRevoke {
			sk.revocations = append(sk.revocations, s)
		} else if sk.binding == nil || s.CreationTime.After(sk.binding.CreationTime) {
			sk.binding = s
		}
	}
	if !usable && seen {
		// Checked as far as we can, never used. Its only signatures may have been signing
		// bindings whose back-signature we cannot check.
		if claimsSign {
			k.unusable = append(k.unusable, unusableSigner{keyID: key.keyID, why: key.why})
		}
		return nil, i, nil
	}
	if sk.binding == nil {
		return nil, 0, errors.New(structural + "subkey packet not followed by signature")
	}
	return sk, i, nil
}

// keyExpired is go-crypto's KeyExpired: created after now, or past the lifetime its
// self-signature gives, at second granularity.
func keyExpired(pk *pubKey, s *Signature, now time.Time) bool {
	c := pk.created.Unix()
	if c > now.Unix() {
		return true
	}
	return s.keyLifetime != 0 && now.Unix() > c+int64(s.keyLifetime)
}

// revoked is go-crypto's revoked: a revocation counts unless it has expired, and a "key
// compromised" one counts even before it was made.
func revoked(revs []*Signature, now time.Time) bool {
	for _, r := range revs {
		if r.revReason != nil && *r.revReason == revocationKeyCompromised {
			return true
		}
		if !r.expired(now) {
			return true
		}
	}
	return false
}
