package action

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/omniagent/omniagent/protocols/mig/pgp"
)

// armorOneLine armors raw with go-crypto (which writes the CRC) and reduces it to MIG's form.
func armorOneLine(t *testing.T, raw []byte, headers map[string]string) (armored, line string) {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, headers)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	line, err = OneLine(buf.String())
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), line
}

func TestParseSignature(t *testing.T) {
	// Lengths 3k, 3k+1, 3k+2 give bodies without padding, ending "==" and ending "=".
	raw0 := bytes.Repeat([]byte{0xc2, 0x01, 0x7f}, 40)
	raw1 := append(bytes.Clone(raw0), 0x42)
	raw2 := append(bytes.Clone(raw0), 0x42, 0x43)
	_, line0 := armorOneLine(t, raw0, nil)
	_, line1 := armorOneLine(t, raw1, nil)
	_, line2 := armorOneLine(t, raw2, nil)
	fullArmor, lineHdr := armorOneLine(t, raw1, map[string]string{"Version": "GnuPG v1", "Comment": "made by hand"})
	if !strings.HasSuffix(line1[:len(line1)-5], "==") || !strings.HasSuffix(line2[:len(line2)-5], "=") {
		t.Fatalf("padding cases not built as intended: %q %q", line1, line2)
	}
	body1 := line1[:len(line1)-5]
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{name: "valid without padding", in: line0, want: raw0},
		{name: "body ending ==", in: line1, want: raw1},
		{name: "body ending =", in: line2, want: raw2},
		{name: "armor with headers reduced to one line", in: lineHdr, want: raw1},
		{name: "wrong CRC", in: body1 + "=AAAA", wantErr: "checksum mismatch"},
		{name: "missing CRC after padding", in: body1, wantErr: "not 4 base64"},
		{name: "missing CRC without padding", in: line0[:len(line0)-5], wantErr: "no armor checksum"},
		{name: "broken base64", in: "wsB!cBAA" + line0[8:], wantErr: "not base64"},
		{name: "CRC not base64", in: body1 + "=!!!!", wantErr: "not base64"},
		{name: "full armor block is not the wire form", in: fullArmor, wantErr: "not"},
		{name: "empty", in: "", wantErr: "no armor checksum"},
		{name: "only checksum", in: "=AAAA", wantErr: "body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignature(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("decoded bytes differ")
			}
		})
	}
}

// Our CRC-24 must agree with go-crypto's armor encoder on arbitrary data.
func TestCRC24MatchesArmor(t *testing.T) {
	for n := range 50 {
		raw := bytes.Repeat([]byte{byte(n * 7)}, n+1)
		_, line := armorOneLine(t, raw, nil)
		sum := pgp.CRC24(raw)
		want := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 16), byte(sum >> 8), byte(sum)})
		if !strings.HasSuffix(line, "="+want) {
			t.Fatalf("len %d: line %q does not end with =%s", n+1, line, want)
		}
	}
}

func TestOneLineRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "abc", "-----BEGIN PGP SIGNATURE-----\nabc"} {
		if _, err := OneLine(in); err == nil {
			t.Errorf("OneLine(%q) accepted", in)
		}
	}
}

func TestSignRoundTrip(t *testing.T) {
	k := getKeys(t)
	a := decodeAction(t, noteExample)
	sig, err := testSign(a, k.alice)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(sig, "\n -") || len(sig) < 100 {
		t.Fatalf("not a one-line signature: %q", sig)
	}
	raw, err := ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	str, err := SignedString(a)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := openpgp.CheckDetachedSignature(openpgp.EntityList{k.alice, k.bob}, bytes.NewReader(str), bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatalf("go-crypto rejects our signature: %v", err)
	}
	if fpOf(signer) != fpOf(k.alice) || len(fpOf(signer)) != 40 {
		t.Fatalf("signer %s, want alice %s", fpOf(signer), fpOf(k.alice))
	}
	p, err := sigPacket(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash.String() != "SHA-256" || p.SigType != 0 || p.Version != 4 {
		t.Fatalf("signature hash %v type %v version %d, want SHA-256 binary v4", p.Hash, p.SigType, p.Version)
	}
	pub := &openpgp.Entity{PrimaryKey: k.alice.PrimaryKey}
	if _, err := testSign(a, pub); err == nil {
		t.Fatal("signing with a public-only entity succeeded")
	}
}

func TestParseKeyring(t *testing.T) {
	k := getKeys(t)
	el, err := ParseKeyring(k.aliceArmored, k.bobArmored)
	if err != nil || len(el) != 2 {
		t.Fatalf("ParseKeyring = %d keys, %v", len(el), err)
	}
	two := append(append([]byte{}, k.aliceArmored...), k.bobArmored...)
	for name, in := range map[string][]byte{"two keys in one block": two, "garbage": []byte("not a key")} {
		if _, err := ParseKeyring(k.aliceArmored, in); err == nil || !strings.Contains(err.Error(), "keyring entry 1") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLoadKeyringDir(t *testing.T) {
	k := getKeys(t)
	dir := t.TempDir()
	files := map[string][]byte{
		"alice.asc": k.aliceArmored,
		"bob.asc":   k.bobArmored,
		"junk.asc":  []byte("junk"),
		"both.asc":  append(append([]byte{}, k.aliceArmored...), k.bobArmored...),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	el, err := LoadKeyringDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(el) != 2 || Fingerprint(el[0]) != fpOf(k.alice) || Fingerprint(el[1]) != fpOf(k.bob) {
		t.Fatalf("loaded %d keys, want alice and bob only", len(el))
	}
	el, err = LoadKeyringDir(filepath.Join(dir, "missing"), nil)
	if err != nil || len(el) != 0 {
		t.Fatalf("missing dir: %d keys, %v; want empty keyring", len(el), err)
	}
	if _, err := LoadKeyringDir(filepath.Join(dir, "alice.asc"), nil); err == nil {
		t.Fatal("a file as keyring dir accepted")
	}
}

// Investigators' usual gpg keys load: EdDSA with a cv25519 encryption subkey, brainpool
// subkeys, several user IDs, ECDSA, a signing subkey (fixtures of package pgp).
func TestLoadKeyringDirGPGKeys(t *testing.T) {
	dir := t.TempDir()
	names := []string{"brainpool", "ed25519", "p256", "subkey", "uids"}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", n+".asc"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n+".asc"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ring, err := LoadKeyringDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring) != len(names) {
		t.Fatalf("loaded %d keys, want %d", len(ring), len(names))
	}
	for i, n := range names {
		want, err := os.ReadFile(filepath.Join("..", "pgp", "testdata", n+".fpr"))
		if err != nil {
			t.Fatal(err)
		}
		if got := Fingerprint(ring[i]); got != strings.TrimSpace(string(want)) {
			t.Errorf("%s: fingerprint %s, want %s", n, got, want)
		}
	}
}
