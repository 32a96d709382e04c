package glpi_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

// TestFakeCoreAnswers: the fake answers as GLPI 10.0.12 does (§3.6, §7 of the note), so the
// adapter tests run against faithful behaviour.
func TestFakeCoreAnswers(t *testing.T) {
	f, err := glpifake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	valid, err := json.Marshal(map[string]any{"action": "inventory", "deviceid": "d-1", "itemtype": "Computer",
		"content": map[string]any{"versionclient": "x", "hardware": map[string]any{"name": "pc1", "memory": 100}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, ct, body string
		agent                        bool
		code                         int
		want                         string
	}{
		{"GET is 405", "GET", "/front/inventory.php", "", "", true, 405, ""},
		{"getConfig on core", "GET", "/front/inventory.php?action=getConfig", "", "", true, 400, "Protocol not supported"},
		{"inventory without agent id", "POST", "/", "application/json", string(valid), false, 200, `"RESPONSE":"SEND"`},
		{"valid inventory", "POST", "/", "application/json", string(valid), true, 200, `"expiration":"24"`},
		{"unknown top-level key", "POST", "/", "application/json", `{"deviceid":"d","content":{"versionclient":"x"},"foo":1}`, true, 400, "JSON does not validate"},
		{"string for an integer", "POST", "/", "application/json", `{"deviceid":"d","content":{"versionclient":"x","hardware":{"memory":"lots"}}}`, true, 400, "JSON does not validate"},
		{"extra field in strict", "POST", "/", "application/json", `{"deviceid":"d","content":{"versionclient":"x","hardware":{"extra_field":"1"}}}`, true, 400, "JSON does not validate"},
		{"rfc3339 offset", "POST", "/", "application/json", `{"deviceid":"d","content":{"versionclient":"x","operatingsystem":{"boot_time":"2024-01-01T10:00:00+02:00"}}}`, true, 400, "JSON does not validate"},
		{"missing versionclient", "POST", "/", "application/json", `{"deviceid":"d","content":{}}`, true, 400, "JSON does not validate"},
		{"malformed", "POST", "/", "application/json", `{"deviceid":`, true, 400, "JSON not well formed!"},
		{"register unsupported", "POST", "/", "application/json", `{"action":"register","deviceid":"d"}`, true, 501, "Query 'register' is not supported."},
		{"wakeonlan unsupported", "POST", "/", "application/json", `{"action":"wakeonlan"}`, true, 501, "Query 'wakeonlan' is not supported."},
		{"brotli refused", "POST", "/", "application/x-compress-br", "xx", true, 500, ""},
		{"prolog with agent id", "POST", "/", "application/xml", `<REQUEST><QUERY>PROLOG</QUERY><DEVICEID>d</DEVICEID></REQUEST>`, true, 200, `"status":"ok"`},
		{"prolog without agent id", "POST", "/", "application/xml", `<REQUEST><QUERY>PROLOG</QUERY><DEVICEID>d</DEVICEID></REQUEST>`, false, 200, "<PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.URL+tc.path, strings.NewReader(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.agent {
				req.Header.Set("GLPI-Agent-ID", "3a609a2e-947f-4e6a-9af9-32c024ac3944")
				req.Header.Set("GLPI-Request-ID", "0A1B2C3D")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.want) {
				t.Errorf("HTTP %d %q, want %d with %q", resp.StatusCode, body, tc.code, tc.want)
			}
			if tc.ct == "application/x-compress-br" && (resp.Header.Get("Content-Type") != tc.ct || len(body) != 0) {
				// As GLPI 10.0.11: the request's encoding mirrored, nothing in the body.
				t.Errorf("brotli refusal: Content-Type %q body %q, want %q and empty", resp.Header.Get("Content-Type"), body, tc.ct)
			}
			if tc.agent && tc.method == "POST" && resp.Header.Get("GLPI-Request-ID") != "0A1B2C3D" {
				t.Error("GLPI-Request-ID not echoed")
			}
		})
	}
	// zlib request → zlib answer with the same Content-Type.
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(valid)
	zw.Close()
	req, _ := http.NewRequest("POST", f.URL+"/", &buf)
	req.Header.Set("Content-Type", "application/x-compress-zlib")
	req.Header.Set("GLPI-Agent-ID", "3a609a2e-947f-4e6a-9af9-32c024ac3944")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/x-compress-zlib" {
		t.Errorf("answer type %q", resp.Header.Get("Content-Type"))
	}
	zr, err := zlib.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(zr)
	if !strings.Contains(string(out), `"status":"ok"`) {
		t.Errorf("answer %q", out)
	}
}

// TestContactPending: a pending CONTACT runs no task and comes back at its expiration.
func TestContactPending(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.ContactPending = true })
	a := e.adapter(nil)
	res, err := cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Next != 5*time.Minute || len(e.fake.Received()) != 0 {
		t.Errorf("next %s, inventories %d", res.Next, len(e.fake.Received()))
	}
}

// TestCloneGetsNewIdentity: a machine UID change (clone) makes a new deviceid and agentid.
func TestCloneGetsNewIdentity(t *testing.T) {
	e := newEnv(t)
	a := e.adapter(nil)
	e.clock.Advance(time.Hour)
	b := e.adapter(nil)
	if a.DeviceID() != b.DeviceID() {
		t.Fatal("identity changed without a clone")
	}
	c, err := e.buildWithUID("ffffffff-0000-0000-0000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceID() == a.DeviceID() || c.AgentID() == a.AgentID() {
		t.Errorf("clone kept deviceid %s / agentid %s", c.DeviceID(), c.AgentID())
	}
}
