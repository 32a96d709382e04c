package sshkey

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// refInspectData is the module's parsing as it was with golang.org/x/crypto/ssh: the reference
// the new parser must reproduce byte for byte.
func refInspectData(path string, buf []byte) ([]KeyInfo, string) {
	refInfo := func(pub ssh.PublicKey, typ string) KeyInfo {
		return KeyInfo{FingerprintMD5: ssh.FingerprintLegacyMD5(pub), FingerprintSHA256: ssh.FingerprintSHA256(pub), Path: path, Type: typ}
	}
	base := filepath.Base(path)
	if base != "authorized_keys" && base != "authorized_keys2" {
		signer, err := ssh.ParsePrivateKey(buf)
		if err == nil {
			return []KeyInfo{refInfo(signer.PublicKey(), TypePrivate)}, ""
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			ki := KeyInfo{Path: path, Encrypted: true, Type: TypePrivate}
			if missing.PublicKey != nil {
				ki.FingerprintMD5 = ssh.FingerprintLegacyMD5(missing.PublicKey)
				ki.FingerprintSHA256 = ssh.FingerprintSHA256(missing.PublicKey)
			}
			return []KeyInfo{ki}, ""
		}
		if pub, _, _, _, err := ssh.ParseAuthorizedKey(buf); err == nil {
			return []KeyInfo{refInfo(pub, TypePublic)}, ""
		}
		return nil, ""
	}
	var out []KeyInfo
	bad := false
	for _, line := range bytes.Split(buf, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			bad = true
			continue
		}
		out = append(out, refInfo(pub, TypeAuthorizedKeys))
	}
	if bad {
		return out, fmt.Sprintf("%v contained unparsable data", path)
	}
	return out, ""
}

func compareWithReference(t *testing.T, path string, buf []byte) []KeyInfo {
	t.Helper()
	got, gotWarn := inspectData(path, buf)
	want, wantWarn := refInspectData(path, buf)
	if !reflect.DeepEqual(got, want) || gotWarn != wantWarn {
		t.Errorf("%s %q:\ngot  %+v %q\nwant %+v %q", path, buf, got, gotWarn, want, wantWarn)
	}
	return got
}

// TestSSHKeygenFixtures checks ssh-keygen's files (see testdata/README.md) against the reference,
// and that they are found as what they are.
func TestSSHKeygenFixtures(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		typ                string
		encrypted, printed bool
	}{
		"id_rsa":               {TypePrivate, false, true},
		"id_rsa_pem":           {TypePrivate, false, true},
		"id_rsa_pkcs8":         {TypePrivate, false, true},
		"id_ecdsa256":          {TypePrivate, false, true},
		"id_ecdsa384":          {TypePrivate, false, true},
		"id_ecdsa521":          {TypePrivate, false, true},
		"id_ecdsa_pem":         {TypePrivate, false, true},
		"id_ecdsa_pkcs8":       {TypePrivate, false, true},
		"id_ed25519":           {TypePrivate, false, true},
		"id_dsa_pem":           {TypePrivate, false, true},
		"id_ed25519_enc":       {TypePrivate, true, true},
		"id_rsa_enc":           {TypePrivate, true, true},
		"id_rsa_pem_enc":       {TypePrivate, true, false},
		"id_rsa.pub":           {TypePublic, false, true},
		"id_dsa.pub":           {TypePublic, false, true},
		"id_ed25519-cert.pub":  {TypePublic, false, true},
		"id_ecdsa256-cert.pub": {TypePublic, false, true},
	}
	seen := 0
	for _, e := range entries {
		if e.Name() == "README.md" {
			continue
		}
		path := filepath.Join("testdata", e.Name())
		buf, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := compareWithReference(t, path, buf)
		tc, ok := tests[e.Name()]
		if !ok {
			continue
		}
		seen++
		if len(got) != 1 || got[0].Type != tc.typ || got[0].Encrypted != tc.encrypted ||
			(got[0].FingerprintSHA256 != "") != tc.printed || (got[0].FingerprintMD5 != "") != tc.printed {
			t.Errorf("%s: got %+v, want one %s key, encrypted %v, fingerprints %v", path, got, tc.typ, tc.encrypted, tc.printed)
		}
	}
	if seen != len(tests) {
		t.Errorf("saw %d of the %d expected fixtures", seen, len(tests))
	}
	ak, err := os.ReadFile("testdata/authorized_keys")
	if err != nil {
		t.Fatal(err)
	}
	if got, warn := inspectData("testdata/authorized_keys", ak); len(got) != 6 || warn == "" {
		t.Errorf("authorized_keys: got %d keys, warning %q; want 6 keys and a warning", len(got), warn)
	}
}

// TestSSHKeygenFixtureMutations damages ssh-keygen's files (cut, changed bytes, inside and
// outside the PEM armour) and compares with the reference.
func TestSSHKeygenFixtureMutations(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, e := range entries {
		path := filepath.Join("testdata", e.Name())
		buf, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(buf); cut += 1 + len(buf)/40 {
			compareWithReference(t, path, buf[:cut])
		}
		blk, _ := pem.Decode(buf)
		for range 100 {
			m := bytes.Clone(buf)
			m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
			compareWithReference(t, path, m)
			if blk != nil && len(blk.Bytes) > 0 {
				b2 := *blk
				b2.Bytes = bytes.Clone(blk.Bytes)
				b2.Bytes[r.IntN(len(b2.Bytes))] ^= byte(1 << r.IntN(8))
				compareWithReference(t, path, pem.EncodeToMemory(&b2))
			}
		}
	}
}

func TestReadBoundedRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		size    int
		wantErr bool
	}{{0, false}, {maxKeyFile, false}, {maxKeyFile + 1, true}}
	for _, tc := range tests {
		path := filepath.Join(dir, fmt.Sprintf("f%d", tc.size))
		if err := os.WriteFile(path, bytes.Repeat([]byte("a"), tc.size), 0o600); err != nil {
			t.Fatal(err)
		}
		buf, err := readBounded(path, maxKeyFile)
		if (err != nil) != tc.wantErr {
			t.Errorf("size %d: err %v, want error %v", tc.size, err, tc.wantErr)
		}
		if err == nil && len(buf) != tc.size {
			t.Errorf("size %d: read %d bytes", tc.size, len(buf))
		}
		if err != nil && !strings.Contains(err.Error(), "larger than") {
			t.Errorf("size %d: unclear error %v", tc.size, err)
		}
	}
	if _, warn := inspect(filepath.Join(dir, fmt.Sprintf("f%d", maxKeyFile+1))); warn == "" {
		t.Error("inspect of an oversized file gave no warning")
	}
	// Unreadable candidates are reported in os.ReadFile's words, as before the size cap.
	for _, path := range []string{dir, filepath.Join(dir, "missing")} {
		_, want := os.ReadFile(path)
		if _, warn := inspect(path); want == nil || warn != want.Error() {
			t.Errorf("inspect(%s) warning %q, want %v", path, warn, want)
		}
	}
}

// FuzzInspectData compares the module's parsing with the x/crypto/ssh reference on any content,
// as a key file and as an authorized_keys file.
func FuzzInspectData(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		buf, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf, e.Name() == "authorized_keys")
	}
	f.Fuzz(func(t *testing.T, buf []byte, authorized bool) {
		path := "/home/u/.ssh/id_key"
		if authorized {
			path = "/home/u/.ssh/authorized_keys"
		}
		compareWithReference(t, path, buf)
	})
}
