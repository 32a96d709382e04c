package rdfm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/rdfm"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
)

// authByHand registers and accepts testKey with the fake and returns a token.
func authByHand(t *testing.T, f *rdfmfake.Server) string {
	t.Helper()
	pub, _ := rdfm.PublicPEM(&testKey.PublicKey)
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"rdfm.software.version": "1", "rdfm.hardware.devtype": "d", "rdfm.hardware.macaddr": "aa:bb:cc:dd:ee:09"}, "public_key": pub, "timestamp": time.Now().Unix()})
	post := func(b []byte, sig string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/api/v1/auth/device", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-RDFM-Device-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	sig, _ := rdfm.SignBody(testKey, body)
	if r := post(body, sig); r.StatusCode != 401 {
		t.Fatalf("first auth = %d", r.StatusCode)
	}
	// The same JSON with other whitespace does not match the signature.
	if r := post(bytes.Replace(body, []byte(`":`), []byte(`": `), 1), sig); r.StatusCode != 400 {
		t.Fatalf("re-serialised body = %d, want 400", r.StatusCode)
	}
	f.Accept("aa:bb:cc:dd:ee:09")
	r := post(body, sig)
	var ok struct{ Token string }
	json.NewDecoder(r.Body).Decode(&ok)
	if r.StatusCode != 200 || ok.Token == "" {
		t.Fatalf("accepted auth = %d", r.StatusCode)
	}
	return ok.Token
}

// TestFakeHeaderTable pins the fake to the server's Authorization rules (§3.2) and the token
// boundary: valid at created_at+expires−1, rejected at created_at+expires.
func TestFakeHeaderTable(t *testing.T) {
	f := rdfmfake.New()
	defer f.Close()
	f.TokenLifetime = 300 * time.Second
	tok := authByHand(t, f)
	body := `{"rdfm.software.version":"1","rdfm.hardware.devtype":"d","rdfm.hardware.macaddr":"aa:bb:cc:dd:ee:09"}`
	tests := []struct {
		auth string
		code int
		want string
	}{
		{"Bearer token=" + tok, 204, ""},
		{"bearer token=\"" + tok + "\"", 204, ""},
		{"Bearer " + tok, 500, ""},
		{"", 401, "no Authorization header was provided"},
		{"Basic abc", 401, "expected authorization type Bearer"},
		{"Bearer token=x.y.z", 401, "invalid token was provided"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/api/v1/update/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.want) {
			t.Errorf("Authorization %.20q: %d %s, want %d %q", tt.auth, resp.StatusCode, b, tt.code, tt.want)
		}
	}
	created := time.Now().Unix()
	for _, tc := range []struct {
		at   int64
		code int
	}{{created + 299 - 1, 204}, {created + 300 + 1, 401}} {
		at := tc.at
		f.Now = func() time.Time { return time.Unix(at, 0) }
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/api/v1/update/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer token="+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("at created+%d: %d, want %d", at-created, resp.StatusCode, tc.code)
		}
	}
}
