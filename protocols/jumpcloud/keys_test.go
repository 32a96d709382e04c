package jumpcloud_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
)

func TestRegionURL(t *testing.T) {
	for host, want := range map[string]string{
		"agent.jumpcloud.com": "https://console.jumpcloud.com", "agent.eu.jumpcloud.com": "https://console.eu.jumpcloud.com",
		"AGENT.IN.jumpcloud.com": "https://console.in.jumpcloud.com", "agent.jumpcloud.eu": "", "": "",
	} {
		got, err := jumpcloud.RegionURL(host)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v", host, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "set url") {
			t.Errorf("%q: %v", host, err)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecSEC, _ := x509.MarshalECPrivateKey(ec)
	cases := map[string]struct {
		pem  []byte
		want string
	}{
		"not pem":       {[]byte("hello"), "no PEM block"},
		"ec pkcs8":      {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "want RSA"},
		"ec sec1":       {pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecSEC}), `"EC PRIVATE KEY" is not an RSA private key`},
		"certificate":   {pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), `"CERTIFICATE"`},
		"encrypted":     {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}), "encrypted"},
		"pkcs8 encrypt": {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		"garbage rsa":   {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2}}), "bad PKCS#1"},
	}
	for name, c := range cases {
		_, err := jumpcloud.ParseKey(c.pem, "k")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", name, err, c.want)
		}
	}
	for _, pkcs8 := range []bool{false, true} {
		p := writeKey(t, t.TempDir(), testKey(), pkcs8)
		raw, _ := os.ReadFile(p)
		if k, err := jumpcloud.ParseKey(raw, p); err != nil || !k.Equal(testKey()) {
			t.Errorf("pkcs8=%v: %v", pkcs8, err)
		}
	}
}

func TestLoadIdentity(t *testing.T) {
	dir := t.TempDir()
	keyPath := writeKey(t, dir, testKey(), false)
	paths := jumpcloud.Paths{Conf: filepath.Join(dir, "jcagent.conf"), Key: keyPath, Log: "/var/log/jcagent.log"}
	cases := map[string]struct{ conf, want string }{
		"missing":      {"", "not installed"},
		"not json":     {"systemKey=x", "not valid JSON"},
		"not enrolled": {`{"agentServerHost":"agent.jumpcloud.com"}`, "not enrolled"},
		"bad key":      {`{"systemKey":"../../api/systemusers"}`, "not a 24-hex-digit id"},
		"upper hex":    {`{"systemKey":"0123456789ABCDEF01234567"}`, "not a 24-hex-digit id"},
		"key missing":  {`{"systemKey":"0123456789abcdef01234567","clientKey":"` + filepath.ToSlash(filepath.Join(dir, "none.key")) + `"}`, "none.key does not exist"},
		"good":         {`{"systemKey":"0123456789abcdef01234567","agentServerHost":"agent.eu.jumpcloud.com","unknown":{"a":1}}`, ""},
		"default key":  {`{"systemKey":"0123456789abcdef01234567","clientKey":""}`, ""},
	}
	for name, c := range cases {
		os.Remove(paths.Conf)
		if c.conf != "" {
			if err := os.WriteFile(paths.Conf, []byte(c.conf), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		id, err := jumpcloud.LoadIdentity(paths, "", "")
		if c.want == "" {
			if err != nil || id.SystemKey != sysID || id.Key == nil {
				t.Errorf("%s: %+v %v", name, id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", name, err, c.want)
		}
		if name == "missing" && !errors.Is(err, jumpcloud.ErrNotInstalled) {
			t.Errorf("missing: not ErrNotInstalled: %v", err)
		}
	}
	if p := jumpcloud.DefaultPaths("windows"); p.Conf != `C:\Program Files\JumpCloud\Plugins\Contrib\jcagent.conf` || p.Key != `C:\Program Files\JumpCloud\Plugins\Contrib\client.key` {
		t.Errorf("windows paths %+v", p)
	}
	if p := jumpcloud.DefaultPaths("darwin"); p.Conf != "/opt/jc/jcagent.conf" || p.Key != "/opt/jc/client.key" {
		t.Errorf("darwin paths %+v", p)
	}
}
