package jcfake_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
)

const (
	me    = "0123456789abcdef01234567"
	other = "76543210fedcba9876543210"
	group = "aaaaaaaaaaaaaaaaaaaaaaaa"
	user  = "111111111111111111111111"
)

// TestRejections drives the fake with correctly signed requests that it must still refuse,
// and with bad signatures and dates.
func TestRejections(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 5, 3, 4, 5, 0, time.UTC)
	f := jcfake.New(jcfake.Options{Now: func() time.Time { return now }}).Start()
	defer f.Close()
	f.AddSystem(&jcfake.System{ID: me, Pub: &key.PublicKey})
	f.AddSystem(&jcfake.System{ID: other, Pub: &key.PublicKey})
	f.AddGroup(group)
	f.AddUser(user)
	cases := []struct {
		name, method, path, body string
		mut                      func(*http.Request)
		at                       time.Time
		status                   int
		reason                   string
	}{
		{name: "own record", method: "GET", path: "/api/systems/" + me, status: 200},
		{name: "another system", method: "GET", path: "/api/systems/" + other, status: 401, reason: "touched another system"},
		{name: "list of systems", method: "GET", path: "/api/systems", status: 401, reason: "not allowed"},
		{name: "trailing slash", method: "GET", path: "/api/systems/" + me + "/", status: 401, reason: "not allowed"},
		{name: "wrong method", method: "POST", path: "/api/systems/" + me, body: "{}", status: 401, reason: "not allowed"},
		{name: "system users", method: "GET", path: "/api/systemusers", status: 401, reason: "not allowed"},
		{name: "group list", method: "GET", path: "/api/v2/systemgroups", status: 401, reason: "not allowed"},
		{name: "member of other", method: "POST", path: "/api/v2/systemgroups/" + group + "/members", body: `{"op":"add","type":"system","id":"` + other + `"}`, status: 401, reason: "membership of system"},
		{name: "member type", method: "POST", path: "/api/v2/systemgroups/" + group + "/members", body: `{"op":"add","type":"user","id":"` + me + `"}`, status: 400},
		{name: "no content type", method: "PUT", path: "/api/systems/" + me, body: "{}", mut: func(r *http.Request) { r.Header.Del("Content-Type") }, status: 400},
		{name: "associations without targets", method: "GET", path: "/api/v2/systems/" + me + "/associations", status: 400},
		{name: "limit above 100", method: "GET", path: "/api/v2/systems/" + me + "/memberof?limit=101", status: 400},
		{name: "sudo half", method: "POST", path: "/api/v2/systems/" + me + "/associations", body: `{"op":"add","type":"user","id":"` + user + `","attributes":{"sudo":{"enabled":true}}}`, status: 400},
		{name: "update missing", method: "POST", path: "/api/v2/systems/" + me + "/associations", body: `{"op":"update","type":"user","id":"` + user + `"}`, status: 400},
		{name: "date past", method: "GET", path: "/api/systems/" + me, at: now.Add(-301 * time.Second), status: 401, reason: "Date skewed"},
		{name: "date future", method: "GET", path: "/api/systems/" + me, at: now.Add(301 * time.Second), status: 401, reason: "Date skewed"},
		{name: "tampered target", method: "GET", path: "/api/systems/" + me, mut: func(r *http.Request) { r.URL.RawQuery = "fields=x" }, status: 401, reason: "bad signature"},
		{name: "re-encoded date", method: "GET", path: "/api/systems/" + me, mut: func(r *http.Request) {
			r.Header.Set("Date", strings.Replace(r.Header.Get("Date"), "GMT", "UTC", 1))
		}, status: 401, reason: "bad signature"},
		{name: "bad algorithm", method: "GET", path: "/api/systems/" + me, mut: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "rsa-sha256", "hmac-sha256", 1))
		}, status: 401, reason: "algorithm"},
		{name: "no auth", method: "GET", path: "/api/systems/" + me, mut: func(r *http.Request) { r.Header.Del("Authorization") }, status: 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequest(c.method, f.URL()+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			at := c.at
			if at.IsZero() {
				at = now
			}
			if err := jumpcloud.Sign(req, me, key, at); err != nil {
				t.Fatal(err)
			}
			if c.mut != nil {
				c.mut(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			log := f.Inspect(me).Log
			last := log[len(log)-1]
			if resp.StatusCode != c.status || !strings.Contains(last.Reason, c.reason) {
				t.Errorf("status %d reason %q; want %d %q", resp.StatusCode, last.Reason, c.status, c.reason)
			}
		})
	}
	f.AddSystem(&jcfake.System{ID: me, Pub: &key.PublicKey, Portal: true})
	req, _ := http.NewRequest("GET", f.URL()+"/api/systems/"+me, nil)
	_ = jumpcloud.Sign(req, me, key, now)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("portal-enrolled system: %d", resp.StatusCode)
	}
}
