package jumpcloud_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
)

var sigParam = regexp.MustCompile(`^Signature keyId="system/([0-9a-f]{24})",headers="request-line date",algorithm="rsa-sha256",signature="([A-Za-z0-9+/=]+)"$`)

// TestSignatureMatchesOpenSSL re-derives the signature with the openssl CLI over a signing
// string written here as a literal (not built by the adapter), for PKCS#1 and PKCS#8 keys.
func TestSignatureMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl not found: the signature was not checked against an independent implementation")
		}
		t.Skip("openssl not found: the signature was not checked byte for byte against `openssl dgst -sha256 -sign`")
	}
	dir := t.TempDir()
	k := testKey()
	keys := map[string]string{"pkcs1": writeKey(t, dir, k, false), "pkcs8": writeKey(t, dir, k, true)}
	now := time.Date(2026, 11, 5, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		target, literal string
	}{
		{"https://console.jumpcloud.com/api/v2/systems/" + sysID + "/associations?targets=user",
			"GET /api/v2/systems/0123456789abcdef01234567/associations?targets=user HTTP/1.1\ndate: Thu, 05 Nov 2026 03:04:05 GMT"},
		{"https://console.jumpcloud.com/api/systems/" + sysID + "?fields=a%20b+c&filter=x%2By",
			"GET /api/systems/0123456789abcdef01234567?fields=a%20b+c&filter=x%2By HTTP/1.1\ndate: Thu, 05 Nov 2026 03:04:05 GMT"},
	}
	opensslSign := func(keyFile string, data []byte) string {
		cmd := exec.Command(openssl, "dgst", "-sha256", "-sign", keyFile)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		return base64.StdEncoding.EncodeToString(out)
	}
	for _, c := range cases {
		req, err := http.NewRequest(http.MethodGet, c.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := jumpcloud.Sign(req, sysID, k, now); err != nil {
			t.Fatal(err)
		}
		if d := req.Header.Get("Date"); d != "Thu, 05 Nov 2026 03:04:05 GMT" {
			t.Errorf("Date = %q", d)
		}
		m := sigParam.FindStringSubmatch(req.Header.Get("Authorization"))
		if m == nil || m[1] != sysID {
			t.Fatalf("Authorization = %q", req.Header.Get("Authorization"))
		}
		got := m[2]
		for name, kf := range keys {
			if want := opensslSign(kf, []byte(c.literal)); got != want {
				t.Errorf("%s %s: signature differs from openssl's\n got  %s\n want %s", name, c.target, got, want)
			}
		}
		// Negative controls: one second later, or a trailing newline, must not match.
		later := []byte(c.literal[:len(c.literal)-6] + "06 GMT")
		if opensslSign(keys["pkcs1"], later) == got {
			t.Error("a Date one second later gives the same signature")
		}
		if opensslSign(keys["pkcs1"], []byte(c.literal+"\n")) == got {
			t.Error("a trailing newline gives the same signature")
		}
		sig, _ := base64.StdEncoding.DecodeString(got)
		sum := sha256.Sum256([]byte(c.literal))
		if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("VerifyPKCS1v15: %v", err)
		}
	}
}
