package pgp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestReadArmoredKeyRefusals(t *testing.T) {
	good := readFile(t, "ed25519.asc")
	bin := dearmorGC(t, good)
	noCRC := withoutCRC(good)
	badCRC := bytes.Replace(good, []byte("\n="), []byte("\n=AAA"), 1)
	priv := privateKeyArmored(t)
	tests := []struct {
		name string
		in   []byte
		want string // substring of the error; "" accepts
	}{
		{name: "gpg export", in: good},
		{name: "without the optional CRC", in: noCRC},
		{name: "CRLF line ends", in: bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n"))},
		{name: "wrong CRC", in: badCRC, want: "armor checksum"},
		{name: "two armor blocks", in: append(append([]byte{}, good...), good...), want: "2 armor blocks"},
		{name: "two primary keys in one block", in: armorKey(t, append(append([]byte{}, bin...), dearmorGC(t, readFile(t, "rsa.asc"))...)), want: "more than one primary key"},
		{name: "private key block", in: priv, want: "expected public key block"},
		{name: "secret key packets in a public block", in: armorKey(t, dearmorGC(t, priv)), want: "secret key material"},
		{name: "signature block", in: []byte("-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n"), want: "expected public key block"},
		{name: "no armor", in: bin, want: "no armored data"},
		{name: "END missing", in: good[:bytes.Index(good, []byte("-----END"))], want: "END line missing"},
		{name: "not base64", in: []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n"), want: "not base64"},
		{name: "too large", in: append(bytes.Repeat([]byte(" "), maxKeyFile), good...), want: "key file of"},
		{name: "user ID without self-signature", in: armorKey(t, withoutPackets(t, dearmorGC(t, readFile(t, "rsa.asc")), tagSignature)), want: "without any identities"},
		{name: "partial body length", in: armorKey(t, append([]byte{0xc6, 0xe1}, bin[2:]...)), want: "partial body length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ReadArmoredKey(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.TrimSpace(string(readFile(t, "ed25519.fpr"))); k.Fingerprint() != want {
					t.Fatalf("fingerprint %s, want %s", k.Fingerprint(), want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// withoutCRC drops the "=XXXX" checksum line.
func withoutCRC(armored []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(armored, []byte("\n")) {
		if len(l) == 5 && l[0] == '=' {
			continue
		}
		out = append(out, l)
	}
	return bytes.Join(out, []byte("\n"))
}

func withoutPackets(t *testing.T, bin []byte, tag byte) []byte {
	t.Helper()
	var out []byte
	for rest := bin; len(rest) > 0; {
		p, r, err := nextPacket(rest)
		if err != nil {
			t.Fatal(err)
		}
		if p.tag != tag {
			out = append(out, rest[:len(rest)-len(r)]...)
		}
		rest = r
	}
	return out
}

func privateKeyArmored(t *testing.T) []byte {
	t.Helper()
	e, err := openpgp.NewEntity("secret", "", "s@example.net", &packet.Config{Algorithm: packet.PubKeyAlgoEd25519})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armorEncode(&b, openpgp.PrivateKeyType)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// errAny stands for "some error" in tables that then check its text.
var errAny = errors.New("any error")

func TestVerifyDetachedFraming(t *testing.T) {
	msg := readFile(t, "message.txt")
	k, err := ReadArmoredKey(readFile(t, "rsa.asc"))
	if err != nil {
		t.Fatal(err)
	}
	sig := readFile(t, "rsa.sig")
	at := t1.Add(time.Minute)
	marker := []byte{0xca, 0x03, 'P', 'G', 'P'}
	tests := []struct {
		name string
		sig  []byte
		want error  // nil: accepted
		text string // and the error names this
	}{
		{name: "as made", sig: sig},
		{name: "marker packet first is dropped", sig: append(append([]byte{}, marker...), sig...)},
		{name: "data after the signature", sig: append(append([]byte{}, sig...), marker...), want: errStricter},
		{name: "a user ID packet instead", sig: []byte{0xcd, 0x01, 'x'}, want: errAny, text: "non signature packet"},
		{name: "empty", sig: nil, want: ErrUnknownIssuer},
		{name: "unknown non-critical packet only", sig: []byte{0xc0 | 60, 0x01, 0x00}, want: ErrUnknownIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyDetached([]*Key{k}, msg, tt.sig, at)
			switch {
			case tt.want == errAny:
				if err == nil || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %v, want %q", err, tt.text)
				}
			case tt.want == nil:
				if err != nil || got != k {
					t.Fatalf("got %v, %v", got, err)
				}
			case !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSignature(t *testing.T) {
	s, err := ParseSignature(readFile(t, "rsa.sig"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.CreationTime.Equal(t1) {
		t.Fatalf("creation time %v, want %v", s.CreationTime, t1)
	}
	for name, in := range map[string][]byte{
		"empty":             nil,
		"user ID":           {0xcd, 0x01, 'x'},
		"v3 signature":      {0xc2, 0x01, 0x03},
		"truncated":         readFile(t, "rsa.sig")[:40],
		"MSB clear":         {0x02, 0x00},
		"indeterminate len": {0x8b, 0x04},
	} {
		if _, err := ParseSignature(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCanonicalText(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"a\nb":      "a\r\nb",
		"a\r\nb":    "a\r\nb",
		"a\rb":      "a\rb",
		"\r\r\n":    "\r\r\r\n",
		"\n\n":      "\r\n\r\n",
		"x\r\n\n\r": "x\r\n\r\n\r",
	} {
		if got := string(canonicalText([]byte(in))); got != want {
			t.Errorf("canonicalText(%q) = %q, want %q", in, got, want)
		}
	}
}

// craftSig builds a v4 Ed25519 signature body with the given hashed subpackets (the
// signature value is zero: only parsing is under test).
func craftSig(sigType byte, hashed ...[]byte) []byte {
	area := []byte{5, spCreationTime, 0x65, 0x92, 0x00, 0xbc} // t1
	for _, sp := range hashed {
		area = append(append(area, byte(len(sp))), sp...)
	}
	b := []byte{4, sigType, algoEd25519, 8, byte(len(area) >> 8), byte(len(area))}
	b = append(b, area...)
	b = append(b, 0, 0, 0xab, 0xcd)
	return append(b, make([]byte, 64)...)
}

func TestEmbeddedSignatureNesting(t *testing.T) {
	inner := craftSig(sigPrimaryBinding)
	one := craftSig(sigSubkeyBinding, append([]byte{spEmbeddedSig}, inner...))
	s, err := parseSignature(one)
	if err != nil || s.embedded == nil || s.embedded.sigType != sigPrimaryBinding || !s.CreationTime.Equal(t1) {
		t.Fatalf("one level: %+v, %v", s, err)
	}
	middle := craftSig(sigPrimaryBinding, append([]byte{spEmbeddedSig}, inner...))
	two := craftSig(sigSubkeyBinding, append([]byte{spEmbeddedSig}, middle...))
	if _, err := parseSignature(two); !errors.Is(err, errStricter) {
		t.Fatalf("two levels: err = %v, want a refusal", err)
	}
	wrongType := craftSig(sigSubkeyBinding, append([]byte{spEmbeddedSig}, craftSig(sigBinary)...))
	if _, err := parseSignature(wrongType); err == nil || !strings.Contains(err.Error(), "cross-signature has unexpected type") {
		t.Fatalf("embedded binary signature: err = %v", err)
	}
	critical := craftSig(sigBinary, []byte{0x80 | 99, 1})
	if _, err := parseSignature(critical); !errors.Is(err, errSkip) {
		t.Fatalf("unknown critical subpacket: err = %v, want the packet skipped", err)
	}
	if _, err := parseSignature(craftSig(sigBinary, []byte{99, 1})); err != nil {
		t.Fatalf("unknown non-critical subpacket: %v", err)
	}
}

// A wrong hash prefix is a bad signature (MIG's texts) and one of our deliberate refusals.
func TestHashTagMismatch(t *testing.T) {
	sig := readFile(t, "rsa.sig")
	p, _, err := nextPacket(sig)
	if err != nil {
		t.Fatal(err)
	}
	hdr := len(sig) - len(p.body)
	hashed := int(p.body[4])<<8 | int(p.body[5])
	unhashed := int(p.body[6+hashed])<<8 | int(p.body[7+hashed])
	bad := bytes.Clone(sig)
	bad[hdr+8+hashed+unhashed] ^= 0xff
	k, err := ReadArmoredKey(readFile(t, "rsa.asc"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyDetached([]*Key{k}, readFile(t, "message.txt"), bad, t1.Add(time.Minute))
	if !errors.Is(err, ErrBadSignature) || !errors.Is(err, errStricter) ||
		err.Error() != "openpgp: invalid signature: hash tag doesn't match" {
		t.Fatalf("err = %v", err)
	}
}
