package keyparse

import (
	"bytes"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
)

// Key and certificate format names.
const (
	algoRSA        = "ssh-rsa"
	algoDSA        = "ssh-dss"
	algoECDSA256   = "ecdsa-sha2-nistp256"
	algoECDSA384   = "ecdsa-sha2-nistp384"
	algoECDSA521   = "ecdsa-sha2-nistp521"
	algoSKECDSA256 = "sk-ecdsa-sha2-nistp256@openssh.com"
	algoED25519    = "ssh-ed25519"
	algoSKED25519  = "sk-ssh-ed25519@openssh.com"
	certSuffix     = "-cert-v01@openssh.com"
)

// errShort is a constant so that the package has no initialiser.
const errShort = parseError("ssh key: short or malformed data")

type parseError string

func (e parseError) Error() string { return string(e) }

// certKeyAlgo returns the plain key format a certificate format wraps, as x/crypto/ssh's
// parsePubKey accepts them (the rsa-sha2-* certificate names are not key formats there).
func certKeyAlgo(algo string) (string, bool) {
	switch algo {
	case algoRSA + certSuffix, algoDSA + certSuffix, algoECDSA256 + certSuffix, algoECDSA384 + certSuffix,
		algoECDSA521 + certSuffix, algoED25519 + certSuffix,
		"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com":
		return certToKey(algo), true
	}
	return "", false
}

func certToKey(cert string) string {
	switch cert {
	case "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com":
		return algoSKECDSA256
	case "sk-ssh-ed25519-cert-v01@openssh.com":
		return algoSKED25519
	}
	return cert[:len(cert)-len(certSuffix)]
}

// keyToCert is certToKey's inverse over the key formats.
func keyToCert(key string) string {
	switch key {
	case algoSKECDSA256:
		return "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"
	case algoSKED25519:
		return "sk-ssh-ed25519-cert-v01@openssh.com"
	}
	return key + certSuffix
}

// isCertFormat reports whether typ names a certificate format, rsa-sha2-* ones included.
func isCertFormat(typ string) bool {
	if _, ok := certKeyAlgo(typ); ok {
		return true
	}
	return typ == "rsa-sha2-256"+certSuffix || typ == "rsa-sha2-512"+certSuffix
}

// PublicKey validates an SSH wire-format public key or certificate as x/crypto/ssh's
// ParsePublicKey does and returns the bytes its Marshal would give, which fingerprints hash.
func PublicKey(in []byte) ([]byte, error) {
	blob, _, err := parsePublicKey(in)
	return blob, err
}

func parsePublicKey(in []byte) (blob []byte, typ string, err error) {
	algo, in, ok := parseString(in)
	if !ok {
		return nil, "", errShort
	}
	blob, typ, rest, err := parsePubKey(in, string(algo))
	if err != nil {
		return nil, "", err
	}
	if len(rest) > 0 {
		return nil, "", errors.New("ssh key: trailing junk in public key")
	}
	return blob, typ, nil
}

// parsePubKey parses the fields of a key of format algo; it returns the canonical blob (with the
// format name), the key's type and what follows the key.
func parsePubKey(in []byte, algo string) (blob []byte, typ string, rest []byte, err error) {
	switch algo {
	case algoRSA:
		return parseRSA(in)
	case algoDSA:
		return parseDSA(in)
	case algoECDSA256, algoECDSA384, algoECDSA521:
		return parseECDSA(in)
	case algoSKECDSA256:
		return parseSKECDSA(in)
	case algoED25519:
		return parseEd25519(in, false)
	case algoSKED25519:
		return parseEd25519(in, true)
	}
	if keyAlgo, ok := certKeyAlgo(algo); ok {
		blob, typ, err := parseCert(in, keyAlgo)
		return blob, typ, nil, err
	}
	return nil, "", nil, fmt.Errorf("ssh key: unknown key algorithm %q", algo)
}

func parseRSA(in []byte) ([]byte, string, []byte, error) {
	e, in, ok := parseMPInt(in)
	if !ok {
		return nil, "", nil, errShort
	}
	n, in, ok := parseMPInt(in)
	if !ok {
		return nil, "", nil, errShort
	}
	if e.BitLen() > 24 {
		return nil, "", nil, errors.New("ssh key: RSA exponent too large")
	}
	if v := e.Int64(); v < 3 || v&1 == 0 {
		return nil, "", nil, errors.New("ssh key: incorrect RSA exponent")
	}
	return rsaBlob(e, n), algoRSA, in, nil
}

func rsaBlob(e, n *big.Int) []byte {
	b := appendString(nil, []byte(algoRSA))
	b = appendMPInt(b, e)
	return appendMPInt(b, n)
}

func parseDSA(in []byte) ([]byte, string, []byte, error) {
	var v [4]*big.Int
	for i := range v {
		var ok bool
		if v[i], in, ok = parseMPInt(in); !ok {
			return nil, "", nil, errShort
		}
	}
	if l := v[0].BitLen(); l != 1024 {
		return nil, "", nil, fmt.Errorf("ssh key: unsupported DSA key size %d", l)
	}
	return dsaBlob(v[0], v[1], v[2], v[3]), algoDSA, in, nil
}

func dsaBlob(p, q, g, y *big.Int) []byte {
	b := appendString(nil, []byte(algoDSA))
	for _, n := range []*big.Int{p, q, g, y} {
		b = appendMPInt(b, n)
	}
	return b
}

// curveByID maps an SSH curve identifier to its curve.
func curveByID(id string) elliptic.Curve {
	switch id {
	case "nistp256":
		return elliptic.P256()
	case "nistp384":
		return elliptic.P384()
	case "nistp521":
		return elliptic.P521()
	}
	return nil
}

// curveID names a supported curve; "" for others.
func curveID(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "nistp256"
	case elliptic.P384():
		return "nistp384"
	case elliptic.P521():
		return "nistp521"
	}
	return ""
}

// ecdsaBlob is the wire form of a point on a supported curve; the format comes from the curve,
// not from the name the input used.
func ecdsaBlob(c elliptic.Curve, x, y *big.Int) []byte {
	id := curveID(c)
	b := appendString(nil, []byte("ecdsa-sha2-"+id))
	b = appendString(b, []byte(id))
	//nolint:staticcheck // elliptic.Marshal is what x/crypto/ssh uses; same bytes.
	return appendString(b, elliptic.Marshal(c, x, y))
}

func parseECDSA(in []byte) ([]byte, string, []byte, error) {
	f, in, ok := parseStrings(in, 2)
	if !ok {
		return nil, "", nil, errShort
	}
	c := curveByID(string(f[0]))
	if c == nil {
		return nil, "", nil, errors.New("ssh key: unsupported curve")
	}
	//nolint:staticcheck // same point checks as x/crypto/ssh.
	x, y := elliptic.Unmarshal(c, f[1])
	if x == nil || y == nil {
		return nil, "", nil, errors.New("ssh key: invalid curve point")
	}
	return ecdsaBlob(c, x, y), "ecdsa-sha2-" + curveID(c), in, nil
}

func parseSKECDSA(in []byte) ([]byte, string, []byte, error) {
	f, in, ok := parseStrings(in, 3)
	if !ok {
		return nil, "", nil, errShort
	}
	if string(f[0]) != "nistp256" {
		return nil, "", nil, errors.New("ssh key: unsupported curve")
	}
	//nolint:staticcheck // same point checks as x/crypto/ssh.
	x, y := elliptic.Unmarshal(elliptic.P256(), f[1])
	if x == nil || y == nil {
		return nil, "", nil, errors.New("ssh key: invalid curve point")
	}
	b := appendString(nil, []byte(algoSKECDSA256))
	b = appendString(b, f[0])
	b = appendString(b, f[1])
	return appendString(b, f[2]), algoSKECDSA256, in, nil
}

func parseEd25519(in []byte, sk bool) ([]byte, string, []byte, error) {
	n, algo := 1, algoED25519
	if sk {
		n, algo = 2, algoSKED25519
	}
	f, in, ok := parseStrings(in, n)
	if !ok {
		return nil, "", nil, errShort
	}
	if l := len(f[0]); l != 32 {
		return nil, "", nil, fmt.Errorf("ssh key: invalid size %d for Ed25519 public key", l)
	}
	b := appendString(nil, []byte(algo))
	for _, s := range f {
		b = appendString(b, s)
	}
	return b, algo, in, nil
}

// parseCert parses an OpenSSH certificate's fields after its format name and returns it
// re-encoded as x/crypto/ssh's Certificate.Marshal does.
func parseCert(in []byte, keyAlgo string) ([]byte, string, error) {
	nonce, in, ok := parseString(in)
	if !ok {
		return nil, "", errShort
	}
	keyBlob, keyTyp, in, err := parsePubKey(in, keyAlgo)
	if err != nil {
		return nil, "", err
	}
	if len(in) == 0 {
		return nil, "", errShort
	}
	serial, in, ok := parseUint64(in)
	if !ok {
		return nil, "", errShort
	}
	certType, in, ok := parseUint32(in)
	if !ok {
		return nil, "", errShort
	}
	// key id, principals
	f1, in, ok := parseStrings(in, 2)
	if !ok {
		return nil, "", errShort
	}
	after, in, ok := parseUint64(in)
	if !ok {
		return nil, "", errShort
	}
	before, in, ok := parseUint64(in)
	if !ok {
		return nil, "", errShort
	}
	// critical options, extensions, reserved, signature key, signature
	f2, in, ok := parseStrings(in, 5)
	if !ok {
		return nil, "", errShort
	}
	if len(in) != 0 {
		return nil, "", errors.New("ssh key: trailing data in certificate")
	}
	for p := f1[1]; len(p) > 0; {
		if _, p, ok = parseString(p); !ok {
			return nil, "", errShort
		}
	}
	opts, err := canonicalTuples(f2[0])
	if err != nil {
		return nil, "", err
	}
	exts, err := canonicalTuples(f2[1])
	if err != nil {
		return nil, "", err
	}
	sigKey, sigKeyTyp, err := parsePublicKey(f2[3])
	if err != nil {
		return nil, "", err
	}
	if isCertFormat(sigKeyTyp) {
		return nil, "", fmt.Errorf("ssh key: the signature key type %q is invalid for certificates", sigKeyTyp)
	}
	if !validSignature(f2[4]) {
		return nil, "", errors.New("ssh key: certificate signature parse error")
	}

	typ := keyToCert(keyTyp)
	_, keyFields, _ := parseString(keyBlob)
	b := appendString(nil, []byte(typ))
	b = appendString(b, nonce)
	b = append(b, keyFields...)
	b = bigEndian64(b, serial)
	b = bigEndian32(b, certType)
	b = appendString(b, f1[0])
	b = appendString(b, f1[1])
	b = bigEndian64(b, after)
	b = bigEndian64(b, before)
	b = appendString(b, opts)
	b = appendString(b, exts)
	b = appendString(b, f2[2])
	b = appendString(b, sigKey)
	return appendString(b, f2[4]), typ, nil
}

func bigEndian64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func bigEndian32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// canonicalTuples checks certificate options as x/crypto/ssh does (sorted, unique, each value
// an optional single string) and re-encodes them: an empty inner value is written as no value.
func canonicalTuples(in []byte) ([]byte, error) {
	var out []byte
	var last []byte
	first := true
	for len(in) > 0 {
		kv, rest, ok := parseStrings(in, 2)
		if !ok {
			return nil, errShort
		}
		in = rest
		if !first && bytes.Compare(kv[0], last) <= 0 {
			return nil, errors.New("ssh key: certificate options are not in lexical order")
		}
		last, first = kv[0], false
		out = appendString(out, kv[0])
		if len(kv[1]) == 0 {
			out = appendString(out, nil)
			continue
		}
		val, extra, ok := parseString(kv[1])
		if !ok {
			return nil, errShort
		}
		if len(extra) > 0 {
			return nil, errors.New("ssh key: trailing data after certificate option value")
		}
		if len(val) == 0 {
			out = appendString(out, nil)
		} else {
			out = appendString(out, appendString(nil, val))
		}
	}
	return out, nil
}

// validSignature checks a signature body: format, blob, and trailing data only for the
// security-key formats.
func validSignature(in []byte) bool {
	f, rest, ok := parseStrings(in, 2)
	if !ok {
		return false
	}
	switch string(f[0]) {
	case algoSKECDSA256, algoSKED25519, "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com":
		return true
	}
	return len(rest) == 0
}

// AuthorizedKey returns the first public key in an authorized_keys or .pub text, skipping the
// lines it cannot parse, with x/crypto/ssh's ParseAuthorizedKey rules (options first, quoted
// strings may hold spaces).
func AuthorizedKey(in []byte) ([]byte, error) {
	var lastErr error
	for len(in) > 0 {
		var rest []byte
		if end := bytes.IndexByte(in, '\n'); end != -1 {
			rest = in[end+1:]
			in = in[:end]
		}
		if end := bytes.IndexByte(in, '\r'); end != -1 {
			in = in[:end]
		}
		in = bytes.TrimSpace(in)
		if len(in) == 0 || in[0] == '#' {
			in = rest
			continue
		}
		i := bytes.IndexAny(in, " \t")
		if i == -1 {
			in = rest
			continue
		}
		blob, err := authorizedKeyBody(in[i:])
		if err == nil {
			return blob, nil
		}
		lastErr = err

		// Maybe there is an options field first: skip it, minding quotes.
		var b byte
		inQuote := false
		for i, b = range in {
			if !inQuote && (b == ' ' || b == '\t') {
				break
			}
			if b == '"' && (i == 0 || in[i-1] != '\\') {
				inQuote = !inQuote
			}
		}
		for i < len(in) && (in[i] == ' ' || in[i] == '\t') {
			i++
		}
		if i == len(in) {
			in = rest
			continue
		}
		in = in[i:]
		i = bytes.IndexAny(in, " \t")
		if i == -1 {
			in = rest
			continue
		}
		if blob, err = authorizedKeyBody(in[i:]); err == nil {
			return blob, nil
		}
		lastErr = err
		in = rest
	}
	if lastErr != nil {
		return nil, fmt.Errorf("ssh key: no key found; last parsing error for ignored line: %w", lastErr)
	}
	return nil, errors.New("ssh key: no key found")
}

// authorizedKeyBody parses "base64 [comment]" after the key type field.
func authorizedKeyBody(in []byte) ([]byte, error) {
	in = bytes.TrimSpace(in)
	i := bytes.IndexAny(in, " \t")
	if i == -1 {
		i = len(in)
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(i))
	n, err := base64.StdEncoding.Decode(raw, in[:i])
	if err != nil {
		return nil, fmt.Errorf("ssh key: decode base64 key: %w", err)
	}
	return PublicKey(raw[:n])
}
