package sshkey

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

type result struct {
	FoundAnything bool     `json:"foundanything"`
	Success       bool     `json:"success"`
	Elements      Elements `json:"elements"`
	Errors        []string `json:"errors"`
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFindsAndFingerprintsKeys(t *testing.T) {
	home := t.TempDir()
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edSSH, err := ssh.NewPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	rsaSSH, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// Plain OpenSSH private key, an encrypted one, an RSA PEM one, a public key, authorized_keys.
	plain, err := ssh.MarshalPrivateKey(edPriv, "alice@test")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(edPriv, "alice@test", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	// MIG's classic PKCS#1 "BEGIN RSA PRIVATE KEY" form.
	rsaPEM := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}
	write(t, filepath.Join(home, "alice/.ssh/id_ed25519"), pem.EncodeToMemory(plain))
	write(t, filepath.Join(home, "alice/.ssh/id_enc"), pem.EncodeToMemory(enc))
	write(t, filepath.Join(home, "bob/.ssh/id_rsa"), pem.EncodeToMemory(rsaPEM))
	write(t, filepath.Join(home, "alice/.ssh/id_ed25519.pub"), ssh.MarshalAuthorizedKey(edSSH))
	ak := "# keys\n" + string(ssh.MarshalAuthorizedKey(rsaSSH)) + "\ncommand=\"/bin/true\",no-pty " + string(ssh.MarshalAuthorizedKey(edSSH)) + "garbage line\n"
	write(t, filepath.Join(home, "bob/.ssh/authorized_keys"), []byte(ak))
	write(t, filepath.Join(home, "bob/notes.txt"), []byte("ssh-rsa is a key type\n"))
	write(t, filepath.Join(home, "deep/a/b/c/d/e/f/g/h/i/id_rsa"), pem.EncodeToMemory(rsaPEM))

	res, err := Module{}.Run(context.Background(), json.RawMessage(`{"paths":["`+filepath.ToSlash(home)+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	edFP, edMD5 := ssh.FingerprintSHA256(edSSH), ssh.FingerprintLegacyMD5(edSSH)
	rsaFP := ssh.FingerprintSHA256(rsaSSH)
	type k struct {
		rel, typ, fp string
		enc          bool
	}
	var got []k
	for _, key := range r.Elements.Keys {
		rel, _ := filepath.Rel(home, key.Path)
		got = append(got, k{filepath.ToSlash(rel), key.Type, key.FingerprintSHA256, key.Encrypted})
		if key.FingerprintMD5 == "" || (key.FingerprintSHA256 == edFP && key.FingerprintMD5 != edMD5) {
			t.Errorf("md5 fingerprint of %s: %q", rel, key.FingerprintMD5)
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].rel+got[i].fp < got[j].rel+got[j].fp })
	want := []k{
		{"alice/.ssh/id_ed25519", TypePrivate, edFP, false},
		{"alice/.ssh/id_ed25519.pub", TypePublic, edFP, false},
		{"alice/.ssh/id_enc", TypePrivate, edFP, true},
		{"bob/.ssh/authorized_keys", TypeAuthorizedKeys, edFP, false},
		{"bob/.ssh/authorized_keys", TypeAuthorizedKeys, rsaFP, false},
		{"bob/.ssh/id_rsa", TypePrivate, rsaFP, false},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].rel+want[i].fp < want[j].rel+want[j].fp })
	if len(got) != len(want) {
		t.Fatalf("keys %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("key %d: %+v, want %+v (maxdepth 8 excludes the deep key)", i, got[i], want[i])
		}
	}
	if !r.Success || !r.FoundAnything || len(r.Errors) != 1 || !strings.HasSuffix(r.Errors[0], "authorized_keys contained unparsable data") {
		t.Fatalf("result: %s", b)
	}
	if !strings.Contains(string(b), `"elements":{"keys":[{"encrypted":false,"fingerprint_md5":"`) {
		t.Fatalf("element key order: %s", b)
	}

	// maxdepth reaches the deep key.
	res, err = Module{}.Run(context.Background(), json.RawMessage(`{"paths":["`+filepath.ToSlash(filepath.Join(home, "deep"))+`"],"maxdepth":20}`))
	if err != nil || len(res.Elements.(map[string]any)["keys"].([]any)) != 1 {
		t.Fatalf("deep: %+v %v", res, err)
	}
}

func TestNothingAndInvalid(t *testing.T) {
	res, err := Module{}.Run(context.Background(), json.RawMessage(`{"paths":["`+filepath.ToSlash(t.TempDir())+`"]}`))
	b, _ := json.Marshal(res)
	if err != nil || !res.Success || res.FoundAnything || !strings.Contains(string(b), `"elements":{"keys":[]}`) {
		t.Fatalf("empty: %s %v", b, err)
	}
	for _, p := range []string{`{"maxdepth":-1}`, `{"maxdepth":1001}`, `{"paths":"x"}`} {
		res, err := Module{}.Run(context.Background(), json.RawMessage(p))
		if err != nil || res.Success || len(res.Errors) != 1 {
			t.Errorf("%s: %+v %v", p, res, err)
		}
	}
}
