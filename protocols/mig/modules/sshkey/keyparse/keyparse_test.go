package keyparse

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still found on disks; x/crypto/ssh reads them.
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// outcome is what the sshkey module keeps from a parse: accepted, encrypted, public blob.
type outcome struct {
	OK        bool
	Encrypted bool
	Blob      []byte
}

func (o outcome) equal(p outcome) bool {
	return o.OK == p.OK && o.Encrypted == p.Encrypted && bytes.Equal(o.Blob, p.Blob)
}

func refPrivate(b []byte) outcome {
	s, err := ssh.ParsePrivateKey(b)
	if err == nil {
		return outcome{OK: true, Blob: s.PublicKey().Marshal()}
	}
	var m *ssh.PassphraseMissingError
	if errors.As(err, &m) {
		o := outcome{Encrypted: true}
		if m.PublicKey != nil {
			o.Blob = m.PublicKey.Marshal()
		}
		return o
	}
	return outcome{}
}

func newPrivate(b []byte) outcome {
	pub, err := PrivateKey(b)
	if err == nil {
		return outcome{OK: true, Blob: pub}
	}
	var e *EncryptedError
	if errors.As(err, &e) {
		return outcome{Encrypted: true, Blob: e.Public}
	}
	return outcome{}
}

func refAuthorized(b []byte) outcome {
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return outcome{}
	}
	return outcome{OK: true, Blob: pub.Marshal()}
}

func newAuthorized(b []byte) outcome {
	pub, err := AuthorizedKey(b)
	if err != nil {
		return outcome{}
	}
	return outcome{OK: true, Blob: pub}
}

func refPublic(b []byte) outcome {
	pub, err := ssh.ParsePublicKey(b)
	if err != nil {
		return outcome{}
	}
	return outcome{OK: true, Blob: pub.Marshal()}
}

func newPublic(b []byte) outcome {
	pub, err := PublicKey(b)
	if err != nil {
		return outcome{}
	}
	return outcome{OK: true, Blob: pub}
}

// samples are inputs of every kind x/crypto/ssh reads, built once per test binary.
type samples struct {
	private    [][]byte // PEM files
	authorized [][]byte // authorized_keys text
	public     [][]byte // wire blobs
}

var (
	corpusOnce sync.Once
	corpusVal  samples
	corpusErr  error
)

func corpus(t testing.TB) samples {
	t.Helper()
	corpusOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				corpusErr = fmt.Errorf("build corpus: %v", r)
			}
		}()
		corpusVal = buildCorpus()
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusVal
}

// must stops corpus building on a setup error; corpus turns the panic into a test failure.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

type dsaASN1 struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

func buildCorpus() samples {
	var s samples
	rsa1024 := must(rsa.GenerateKey(rand.Reader, 1024))
	rsa2048 := must(rsa.GenerateKey(rand.Reader, 2048))
	var ecKeys []*ecdsa.PrivateKey
	for _, c := range []elliptic.Curve{elliptic.P224(), elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		ecKeys = append(ecKeys, must(ecdsa.GenerateKey(c, rand.Reader)))
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	check(err)
	x25519 := must(ecdh.X25519().GenerateKey(rand.Reader))
	var dsaKey dsa.PrivateKey
	check(dsa.GenerateParameters(&dsaKey.Parameters, rand.Reader, dsa.L1024N160))
	check(dsa.GenerateKey(&dsaKey, rand.Reader))

	// Private keys in every format x/crypto/ssh reads.
	for _, k := range []*rsa.PrivateKey{rsa1024, rsa2048} {
		s.private = append(s.private, pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)))
	}
	signers := []any{rsa1024, rsa2048, edKey}
	for _, k := range ecKeys {
		s.private = append(s.private, pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(k))))
		signers = append(signers, k)
	}
	for _, k := range append(signers, x25519) {
		s.private = append(s.private, pemOf("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(k))))
	}
	for _, k := range signers {
		if k == ecKeys[0] {
			continue // ssh cannot marshal P-224
		}
		blk := must(ssh.MarshalPrivateKey(k, "user@host"))
		s.private = append(s.private, pem.EncodeToMemory(blk))
		blk = must(ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte("pw")))
		s.private = append(s.private, pem.EncodeToMemory(blk))
	}
	dsaDER := must(asn1.Marshal(dsaASN1{P: dsaKey.P, Q: dsaKey.Q, G: dsaKey.G, Y: dsaKey.Y, X: dsaKey.X}))
	s.private = append(s.private, pemOf("DSA PRIVATE KEY", dsaDER))
	// A 1536-bit P: read by x/crypto/ssh, then refused by its signer.
	bigP := new(big.Int).Lsh(dsaKey.P, 512)
	s.private = append(s.private, pemOf("DSA PRIVATE KEY", must(asn1.Marshal(dsaASN1{P: bigP, Q: dsaKey.Q, G: dsaKey.G, Y: dsaKey.Y, X: dsaKey.X}))))
	// Negative DSA values are legal ASN.1 and x/crypto/ssh marshals them as negative mpints.
	s.private = append(s.private, pemOf("DSA PRIVATE KEY", must(asn1.Marshal(dsaASN1{P: dsaKey.P, Q: new(big.Int).Neg(dsaKey.Q), G: big.NewInt(-128), Y: big.NewInt(0), X: dsaKey.X}))))
	//nolint:staticcheck // legacy encrypted PEM is what old ssh-keygen wrote.
	enc := must(x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024), []byte("pw"), x509.PEMCipherAES128))
	s.private = append(s.private, pem.EncodeToMemory(enc))
	//nolint:staticcheck // as above
	enc = must(x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ecKeys[1])), []byte("pw"), x509.PEMCipherDES))
	s.private = append(s.private, pem.EncodeToMemory(enc))
	s.private = append(s.private, pemOf("CERTIFICATE", []byte("not a key")), []byte("no pem here"))
	s.private = append(s.private, openSSHByHand(rsa1024, ecKeys[1], edKey)...)

	// Public keys: plain, security keys, odd encodings, certificates.
	var pubs []ssh.PublicKey
	for _, k := range signers {
		if k == ecKeys[0] {
			continue
		}
		pubs = append(pubs, must(ssh.NewSignerFromKey(k)).PublicKey())
	}
	pubs = append(pubs, must(ssh.NewPublicKey(&dsaKey.PublicKey)))
	for _, p := range pubs {
		s.public = append(s.public, p.Marshal())
	}
	ecPoint := elliptic.Marshal(elliptic.P256(), ecKeys[1].X, ecKeys[1].Y) //nolint:staticcheck // test data
	edPub := []byte(edKey.Public().(ed25519.PublicKey))
	skECDSA := ssh.Marshal(struct{ Name, Curve, Point, App string }{"sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", string(ecPoint), "ssh:"})
	skEd := ssh.Marshal(struct{ Name, Key, App string }{"sk-ssh-ed25519@openssh.com", string(edPub), "ssh:app"})
	s.public = append(s.public, skECDSA, skEd,
		// leading-zero mpints, negative modulus, curve not matching the name, bad exponent
		ssh.Marshal(struct {
			Name string
			E, N []byte
		}{"ssh-rsa", []byte{0, 0, 1, 0, 1}, append([]byte{0, 0}, rsa1024.N.Bytes()...)}),
		ssh.Marshal(struct {
			Name string
			E, N *big.Int
		}{"ssh-rsa", big.NewInt(65537), new(big.Int).Neg(rsa1024.N)}),
		ssh.Marshal(struct {
			Name string
			E, N *big.Int
		}{"ssh-rsa", big.NewInt(65536), rsa1024.N}),
		ssh.Marshal(struct{ Name, Curve, Point string }{"ecdsa-sha2-nistp521", "nistp256", string(ecPoint)}),
		ssh.Marshal(struct{ Name, Curve, Point string }{"ecdsa-sha2-nistp256", "nistp224", string(ecPoint)}),
		ssh.Marshal(struct{ Name, Key string }{"ssh-ed25519", string(edPub[:31])}),
		ssh.Marshal(struct{ Name, Key string }{"rsa-sha2-256", string(edPub)}),
	)
	caSigner := must(ssh.NewSignerFromKey(edKey))
	rsaCA := must(ssh.NewSignerFromKey(rsa2048))
	certKeys := append([]ssh.PublicKey{}, pubs...)
	certKeys = append(certKeys, must(ssh.ParsePublicKey(skECDSA)), must(ssh.ParsePublicKey(skEd)))
	for i, k := range certKeys {
		ca := caSigner
		if i%2 == 1 {
			ca = rsaCA
		}
		c := &ssh.Certificate{Key: k, Serial: uint64(i), CertType: ssh.UserCert, KeyId: "id", ValidPrincipals: []string{"alice", ""},
			ValidBefore: ssh.CertTimeInfinity, Permissions: ssh.Permissions{
				CriticalOptions: map[string]string{"force-command": "/bin/true", "source-address": "10.0.0.0/8"},
				Extensions:      map[string]string{"permit-pty": "", "permit-X11-forwarding": ""}}}
		check(c.SignCert(rand.Reader, ca))
		s.public = append(s.public, c.Marshal())
	}
	s.public = append(s.public, certWithEmptyOptionValue(s.public[len(s.public)-1]))

	for _, b := range s.public {
		line := authorizedLine(b)
		for _, l := range []string{line,
			`command="echo \"a b\"",no-pty ` + line + ` the comment`,
			"from=\"x\ty\" \t" + line + "\r\n",
			"# comment\n\nbad line\n" + line + " c\n",
			"ssh-rsa " + strings.SplitN(line, " ", 2)[1],
		} {
			s.authorized = append(s.authorized, []byte(l))
		}
	}
	for _, l := range []string{`"unterminated ssh-rsa AAAA`, "ssh-rsa", "opt ssh-rsa !!!!", ""} {
		s.authorized = append(s.authorized, []byte(l))
	}
	return s
}

func authorizedLine(blob []byte) string {
	typ, _, _ := parseString(blob)
	return string(typ) + " " + base64.StdEncoding.EncodeToString(blob)
}

// certWithEmptyOptionValue rewrites a certificate so its first extension value is an encoded
// empty string, which x/crypto/ssh re-marshals as no value at all.
func certWithEmptyOptionValue(cert []byte) []byte {
	c := must(ssh.ParsePublicKey(cert)).(*ssh.Certificate)
	raw := c.Marshal()
	old := ssh.Marshal(struct{ K, V string }{"permit-X11-forwarding", ""})
	repl := ssh.Marshal(struct{ K, V string }{"permit-X11-forwarding", "\x00\x00\x00\x00"})
	i := bytes.Index(raw, old)
	if i < 0 {
		panic("extension not found in certificate")
	}
	out := append(append(append([]byte{}, raw[:i]...), repl...), raw[i+len(old):]...)
	// The extensions string, whose length prefix sits right before its first tuple, grew by
	// four bytes.
	extStart := i - 4
	n := uint32(out[extStart])<<24 | uint32(out[extStart+1])<<16 | uint32(out[extStart+2])<<8 | uint32(out[extStart+3])
	n += 4
	out[extStart], out[extStart+1], out[extStart+2], out[extStart+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return out
}

// openSSHByHand builds openssh-key-v1 files x/crypto/ssh cannot write: a security key (readable
// only when encrypted), mismatched check ints, bad padding, two keys, a wrong public point.
func openSSHByHand(rk *rsa.PrivateKey, ek *ecdsa.PrivateKey, edKey ed25519.PrivateKey) [][]byte {
	type outer struct {
		Cipher, KDF, KDFOpts string
		N                    uint32
		Pub, Priv            []byte
	}
	file := func(o outer) []byte {
		return pemOf("OPENSSH PRIVATE KEY", append([]byte("openssh-key-v1\x00"), ssh.Marshal(o)...))
	}
	edPub := []byte(edKey.Public().(ed25519.PublicKey))
	skPub := ssh.Marshal(struct{ Name, Key, App string }{"sk-ssh-ed25519@openssh.com", string(edPub), "ssh:"})
	edBlob := ssh.Marshal(struct{ Name, Key string }{"ssh-ed25519", string(edPub)})
	edPriv := func(c1, c2 uint32, pad []byte, priv []byte) []byte {
		b := ssh.Marshal(struct {
			C1, C2          uint32
			Type, Pub, Priv string
			Comment         string
		}{c1, c2, "ssh-ed25519", string(edPub), string(priv), "c"})
		return append(b, pad...)
	}
	otherEd := make([]byte, 64)
	copy(otherEd, edKey)
	otherEd[40] ^= 1 // a public half that is not the public field: x/crypto/ssh uses this half
	ecPriv := func(d *big.Int) []byte {
		return ssh.Marshal(struct {
			C1, C2             uint32
			Type, Curve, Point string
			D                  *big.Int
			Comment            string
		}{7, 7, "ecdsa-sha2-nistp256", "nistp256", string(elliptic.Marshal(elliptic.P256(), ek.X, ek.Y)), d, ""}) //nolint:staticcheck // test data
	}
	rsaPriv := ssh.Marshal(struct {
		C1, C2              uint32
		Type                string
		N, E, D, Iqmp, P, Q *big.Int
		Comment             string
	}{1, 1, "ssh-rsa", rk.N, big.NewInt(int64(rk.E)), rk.D, rk.Precomputed.Qinv, rk.Primes[0], new(big.Int).Add(rk.Primes[1], big.NewInt(2)), ""})
	return [][]byte{
		file(outer{"aes256-ctr", "bcrypt", "x", 1, skPub, []byte("opaque")}),
		file(outer{"none", "none", "", 1, skPub, ssh.Marshal(struct {
			C1, C2         uint32
			Type, Key, App string
		}{1, 1, "sk-ssh-ed25519@openssh.com", string(edPub), "ssh:"})}),
		file(outer{"aes256-ctr", "bcrypt", "", 1, []byte("garbage"), []byte("opaque")}),
		file(outer{"none", "none", "", 1, edBlob, edPriv(1, 1, []byte{1, 2, 3}, edKey)}),
		file(outer{"none", "none", "", 1, edBlob, edPriv(1, 2, nil, edKey)}),
		file(outer{"none", "none", "", 1, edBlob, edPriv(1, 1, []byte{1, 3}, edKey)}),
		file(outer{"none", "none", "", 1, edBlob, edPriv(1, 1, nil, otherEd)}),
		file(outer{"none", "none", "", 1, edBlob, edPriv(1, 1, nil, edKey[:63])}),
		file(outer{"none", "none", "", 2, edBlob, edPriv(1, 1, nil, edKey)}),
		file(outer{"none", "none", "opts", 1, edBlob, edPriv(1, 1, nil, edKey)}),
		file(outer{"none", "bcrypt", "", 1, edBlob, edPriv(1, 1, nil, edKey)}),
		file(outer{"none", "none", "", 1, edBlob, ecPriv(ek.D)}),
		file(outer{"none", "none", "", 1, edBlob, ecPriv(new(big.Int).Add(ek.D, big.NewInt(1)))}),
		file(outer{"none", "none", "", 1, edBlob, ecPriv(elliptic.P256().Params().N)}),
		file(outer{"none", "none", "", 1, edBlob, ecPriv(new(big.Int).Neg(ek.D))}),
		file(outer{"none", "none", "", 1, edBlob, rsaPriv}),
	}
}

func TestDifferential(t *testing.T) {
	s := corpus(t)
	accepted := 0
	compare := func(t *testing.T, kind string, in []byte, ref, got func([]byte) outcome) {
		t.Helper()
		want, have := ref(in), got(in)
		if !want.equal(have) {
			t.Errorf("%s %q:\nx/crypto/ssh: %+v\nkeyparse:     %+v", kind, in, want, have)
		}
		if want.OK || want.Encrypted {
			accepted++
		}
	}
	for _, b := range s.private {
		compare(t, "private", b, refPrivate, newPrivate)
	}
	for _, b := range s.public {
		compare(t, "public", b, refPublic, newPublic)
	}
	for _, b := range s.authorized {
		compare(t, "authorized", b, refAuthorized, newAuthorized)
	}
	// Most samples are valid; a corpus x/crypto/ssh mostly rejects would prove little.
	if total := len(s.private) + len(s.public) + len(s.authorized); accepted < total/2 {
		t.Fatalf("only %d of %d samples accepted by x/crypto/ssh", accepted, total)
	}
}

func TestFingerprints(t *testing.T) {
	for _, b := range corpus(t).public {
		pub, err := ssh.ParsePublicKey(b)
		if err != nil {
			continue
		}
		if got, want := FingerprintMD5(pub.Marshal()), ssh.FingerprintLegacyMD5(pub); got != want {
			t.Errorf("MD5 = %s, want %s", got, want)
		}
		if got, want := FingerprintSHA256(pub.Marshal()), ssh.FingerprintSHA256(pub); got != want {
			t.Errorf("SHA256 = %s, want %s", got, want)
		}
	}
}

// mutations returns truncations and byte changes of b, deterministic for a seed.
func mutations(b []byte, seed uint64, n int) [][]byte {
	r := mrand.New(mrand.NewPCG(seed, 1))
	var out [][]byte
	for _, cut := range []int{0, 1, 4, len(b) / 3, len(b) / 2, len(b) - 5, len(b) - 1} {
		if cut >= 0 && cut < len(b) {
			out = append(out, b[:cut])
		}
	}
	for range n {
		if len(b) == 0 {
			break
		}
		m := append([]byte{}, b...)
		i := r.IntN(len(m))
		switch r.IntN(4) {
		case 0:
			m[i] ^= byte(1 << r.IntN(8))
		case 1:
			m[i] = byte(r.IntN(256))
		case 2:
			m[i] = []byte{0, 0xff, 0x80, 0x7f, ' ', '"', '\n'}[r.IntN(7)]
		default:
			m = append(m[:i], m[i+1:]...)
		}
		out = append(out, m)
	}
	return out
}

func TestMutations(t *testing.T) {
	s := corpus(t)
	n := 150
	if testing.Short() {
		n = 20
	}
	compare := func(kind string, in []byte, ref, got func([]byte) outcome) {
		if want, have := ref(in), got(in); !want.equal(have) {
			t.Errorf("%s %q:\nx/crypto/ssh: %+v\nkeyparse:     %+v", kind, in, want, have)
		}
	}
	for i, file := range s.private {
		// Mutate the PEM body, where the structure is, and re-armour it.
		blk, _ := pem.Decode(file)
		if blk == nil {
			continue
		}
		for _, m := range mutations(blk.Bytes, uint64(i), n) {
			blk2 := *blk
			blk2.Bytes = m
			compare("private", pem.EncodeToMemory(&blk2), refPrivate, newPrivate)
		}
		for _, m := range mutations(file, uint64(i), 10) {
			compare("private", m, refPrivate, newPrivate)
		}
	}
	for i, b := range s.public {
		for _, m := range mutations(b, uint64(i), n) {
			compare("public", m, refPublic, newPublic)
			compare("authorized", []byte(authorizedLine(m)), refAuthorized, newAuthorized)
		}
	}
	for i, b := range s.authorized {
		for _, m := range mutations(b, uint64(i), 20) {
			compare("authorized", m, refAuthorized, newAuthorized)
		}
	}
}

func FuzzDifferential(f *testing.F) {
	s := corpus(f)
	for _, b := range s.private {
		f.Add(uint8(0), b)
		if blk, _ := pem.Decode(b); blk != nil {
			f.Add(uint8(3), blk.Bytes)
		}
	}
	for _, b := range s.public {
		f.Add(uint8(1), b)
	}
	for _, b := range s.authorized {
		f.Add(uint8(2), b)
	}
	f.Fuzz(func(t *testing.T, kind uint8, in []byte) {
		var ref, got func([]byte) outcome
		switch kind % 4 {
		case 0:
			ref, got = refPrivate, newPrivate
		case 1:
			ref, got = refPublic, newPublic
		case 2:
			ref, got = refAuthorized, newAuthorized
		default:
			// A raw body to wrap: covers the structures behind the PEM armour.
			typ := []string{"OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY"}[int(kind/4)%5]
			in = pemOf(typ, in)
			ref, got = refPrivate, newPrivate
		}
		if want, have := ref(in), got(in); !want.equal(have) {
			t.Errorf("%q:\nx/crypto/ssh: %+v\nkeyparse:     %+v", in, want, have)
		}
	})
}
