package keyparse

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// EncryptedError reports a passphrase-protected private key. Public is the key's wire blob when
// the format keeps it in clear (OpenSSH format), nil otherwise (legacy encrypted PEM).
type EncryptedError struct {
	Public []byte
}

func (*EncryptedError) Error() string { return "ssh key: this private key is passphrase protected" }

// PrivateKey parses the first PEM block of pemBytes as a private key, with the formats and checks
// of x/crypto/ssh's ParsePrivateKey, and returns its public key's wire blob. An encrypted key
// gives an *EncryptedError.
func PrivateKey(pemBytes []byte) ([]byte, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("ssh key: no PEM block found")
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, &EncryptedError{}
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		if err := checkPKCS1Size(block.Bytes); err != nil {
			return nil, err
		}
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		if err := checkPKCS8Size(block.Bytes); err != nil {
			return nil, err
		}
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "DSA PRIVATE KEY":
		return dsaPrivateKey(block.Bytes)
	case "OPENSSH PRIVATE KEY":
		return openSSHPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("ssh key: unsupported key type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh key: parse %s: %w", strings.ToLower(block.Type), err)
	}
	return signerPublic(key)
}

// signerPublic is the public blob of a parsed private key, for the key kinds x/crypto/ssh's
// NewSignerFromKey accepts.
func signerPublic(key any) ([]byte, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ssh key: unsupported key type %T", key)
	}
	switch pub := s.Public().(type) {
	case *rsa.PublicKey:
		return rsaBlob(big.NewInt(int64(pub.E)), pub.N), nil
	case *ecdsa.PublicKey:
		if curveID(pub.Curve) == "" {
			return nil, errors.New("ssh key: only P-256, P-384 and P-521 EC keys are supported")
		}
		return ecdsaBlob(pub.Curve, pub.X, pub.Y), nil
	case ed25519.PublicKey:
		if l := len(pub); l != ed25519.PublicKeySize {
			return nil, fmt.Errorf("ssh key: invalid size %d for Ed25519 public key", l)
		}
		b := appendString(nil, []byte(algoED25519))
		return appendString(b, pub), nil
	default:
		return nil, fmt.Errorf("ssh key: unsupported public key type %T", pub)
	}
}

// dsaPrivateKey reads OpenSSL's DSA private key structure.
func dsaPrivateKey(der []byte) ([]byte, error) {
	var k struct {
		Version int
		P       *big.Int
		Q       *big.Int
		G       *big.Int
		Pub     *big.Int
		Priv    *big.Int
	}
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil {
		return nil, fmt.Errorf("ssh key: parse DSA key: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("ssh key: garbage after DSA key")
	}
	if l := k.P.BitLen(); l != 1024 {
		return nil, fmt.Errorf("ssh key: unsupported DSA key size %d", l)
	}
	return dsaBlob(k.P, k.Q, k.G, k.Pub), nil
}

const openSSHMagic = "openssh-key-v1\x00"

// openSSHPrivateKey reads an openssh-key-v1 body. An encrypted one is reported with its public
// key from the clear header; an unencrypted one is checked (check ints, padding, key match) and
// its public key derived from the private part, as x/crypto/ssh does.
func openSSHPrivateKey(key []byte) ([]byte, error) {
	if !bytes.HasPrefix(key, []byte(openSSHMagic)) {
		return nil, errors.New("ssh key: invalid openssh private key format")
	}
	// cipher name, kdf name, kdf options; number of keys; public key, private block
	hdr, in, ok := parseStrings(key[len(openSSHMagic):], 3)
	if !ok {
		return nil, errShort
	}
	numKeys, in, ok := parseUint32(in)
	if !ok {
		return nil, errShort
	}
	body, _, ok := parseStrings(in, 2)
	if !ok {
		return nil, errShort
	}
	if numKeys != 1 {
		return nil, errors.New("ssh key: multi-key files are not supported")
	}
	cipherName, kdfName, kdfOpts := string(hdr[0]), string(hdr[1]), hdr[2]
	if kdfName != "none" || cipherName != "none" {
		pub, err := PublicKey(body[0])
		if err != nil {
			return nil, fmt.Errorf("ssh key: parse embedded public key: %w", err)
		}
		return nil, &EncryptedError{Public: pub}
	}
	if len(kdfOpts) != 0 {
		return nil, errors.New("ssh key: invalid openssh private key")
	}
	priv := body[1]
	check1, priv, ok1 := parseUint32(priv)
	check2, priv, ok2 := parseUint32(priv)
	keyType, priv, ok3 := parseString(priv)
	if !ok1 || !ok2 || !ok3 || check1 != check2 {
		return nil, errors.New("ssh key: malformed OpenSSH key")
	}
	switch string(keyType) {
	case algoRSA:
		return openSSHRSA(priv)
	case algoED25519:
		return openSSHEd25519(priv)
	case algoECDSA256, algoECDSA384, algoECDSA521:
		return openSSHECDSA(priv)
	default:
		return nil, fmt.Errorf("ssh key: unhandled key type %q", keyType)
	}
}

func checkPadding(pad []byte) error {
	for i, b := range pad {
		if int(b) != i+1 {
			return errors.New("ssh key: padding not as expected")
		}
	}
	return nil
}

// checkCommentAndPadding checks what follows a private key's fields: its comment, then the
// padding.
func checkCommentAndPadding(in []byte) error {
	_, pad, ok := parseString(in)
	if !ok {
		return errShort
	}
	return checkPadding(pad)
}

func openSSHRSA(in []byte) ([]byte, error) {
	var v [6]*big.Int // n, e, d, iqmp, p, q
	for i := range v {
		var ok bool
		if v[i], in, ok = parseMPInt(in); !ok {
			return nil, errShort
		}
	}
	if err := checkCommentAndPadding(in); err != nil {
		return nil, err
	}
	if err := checkRSABits(v[0]); err != nil {
		return nil, err
	}
	pk := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: v[0], E: int(v[1].Int64())},
		D:         v[2],
		Primes:    []*big.Int{v[4], v[5]},
	}
	if err := pk.Validate(); err != nil {
		return nil, fmt.Errorf("ssh key: invalid RSA key: %w", err)
	}
	return rsaBlob(big.NewInt(int64(pk.E)), pk.N), nil
}

func openSSHEd25519(in []byte) ([]byte, error) {
	f, pad, ok := parseStrings(in, 3) // public, private, comment
	if !ok {
		return nil, errShort
	}
	if len(f[1]) != ed25519.PrivateKeySize {
		return nil, errors.New("ssh key: private key unexpected length")
	}
	if err := checkPadding(pad); err != nil {
		return nil, err
	}
	// The public key is taken from the private key's second half, not from the public field.
	b := appendString(nil, []byte(algoED25519))
	return appendString(b, f[1][32:]), nil
}

func openSSHECDSA(in []byte) ([]byte, error) {
	f, in, ok := parseStrings(in, 2) // curve, public point
	if !ok {
		return nil, errShort
	}
	d, in, ok := parseMPInt(in)
	if !ok {
		return nil, errShort
	}
	if err := checkCommentAndPadding(in); err != nil {
		return nil, err
	}
	c := curveByID(string(f[0]))
	if c == nil {
		return nil, fmt.Errorf("ssh key: unhandled elliptic curve %q", f[0])
	}
	//nolint:staticcheck // same point checks as x/crypto/ssh.
	x, y := elliptic.Unmarshal(c, f[1])
	if x == nil || y == nil {
		return nil, errors.New("ssh key: failed to unmarshal public key")
	}
	if d.Cmp(c.Params().N) >= 0 {
		return nil, errors.New("ssh key: scalar is out of range")
	}
	//nolint:staticcheck // the same derivation x/crypto/ssh checks with.
	dx, dy := c.ScalarBaseMult(d.Bytes())
	if dx.Cmp(x) != 0 || dy.Cmp(y) != 0 {
		return nil, errors.New("ssh key: public key does not match private key")
	}
	return ecdsaBlob(c, x, y), nil
}
