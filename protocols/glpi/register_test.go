package glpi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

const (
	vecToken   = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	vecAgentID = "3a609a2e-947f-4e6a-9af9-32c024ac3944"
)

func mustBlock(t *testing.T, s string) glpi.Block {
	t.Helper()
	b, err := glpi.ParseBlock(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRegisterVector: the §8.5 table, block by block.
func TestRegisterVector(t *testing.T) {
	tok := mustBlock(t, vecToken)
	for _, tc := range []struct{ plain, wire string }{
		{"00112233445566779af932c024ac3944", "659a2b5c-7266-448a-d2f7-8a76674bd9f1"},
		{"00112233445566778899aabbccddeeff", "56c284f3-8f56-f111-4426-9af60e62f7b3"},
		{"8899aabbccddeeff0011223344556677", "1c0882d3-4bc3-8b65-82aa-0dca09ea3d71"},
		{"000102030405060708090a0b0c0d0e0f", "50b58e80-ce78-4e98-ad48-d63390c5dfd7"},
	} {
		p := mustBlock(t, tc.plain)
		if got := glpi.Encrypt(tok, p).String(); got != tc.wire {
			t.Errorf("E(%s) = %s, want %s", tc.plain, got, tc.wire)
		}
		if got := glpi.Decrypt(tok, mustBlock(t, tc.wire)); got != p {
			t.Errorf("D(%s) = %x", tc.wire, got)
		}
	}
	for _, bad := range []string{"", "xyz", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fz"} {
		if _, err := glpi.ParseBlock(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// regEnv is an agent with the vector's agentid and register = true.
func regEnv(t *testing.T, cfg glpifake.RegisterConfig) (*testEnv, *glpi.Adapter) {
	t.Helper()
	e := newEnv(t)
	st, err := state.Open(e.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Server("glpi-test").Save(map[string]any{"deviceid": "pc1-2026-03-04-10-00-00", "agentid": vecAgentID, "fingerprint": "4c4c4544-0042-3510-8052-b4c04f4b4e31"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Token == "" {
		cfg.Token = vecToken
	}
	e.fake.Set(func(s *glpifake.Server) { s.RegisterMode = true; s.Register = cfg })
	a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.Register = true; o.Token = vecToken })
	if a.AgentID() != vecAgentID {
		t.Fatalf("agentid %s", a.AgentID())
	}
	return e, a
}

// TestRegisterSuccessVector: the exchange reproduces the note's wire values and stores K.
func TestRegisterSuccessVector(t *testing.T) {
	s := [8]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}
	k := mustBlock(t, "000102030405060708090a0b0c0d0e0f")
	e, a := regEnv(t, glpifake.RegisterConfig{S: &s, K: &k})
	g := [8]byte{0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	if err := a.RegisterWith(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.RegisterAnswers(); len(got) != 1 || got[0] != "56c284f3-8f56-f111-4426-9af60e62f7b3" {
		t.Errorf("agent challenge answer = %v", got)
	}
	if a.RegisterStatus() != "registered" || a.RegisterKey() != "000102030405060708090a0b0c0d0e0f" {
		t.Errorf("status %s key %s", a.RegisterStatus(), a.RegisterKey())
	}
	// Through Cycle with random G: registration then CONTACT and inventory.
	e2, a2 := regEnv(t, glpifake.RegisterConfig{})
	if _, err := cycle(t, a2); err != nil {
		t.Fatal(err)
	}
	issued, done := e2.fake.RegisterIssued()
	if !done || a2.RegisterKey() != strings.ReplaceAll(issued.String(), "-", "") {
		t.Errorf("key %s issued %s done %v", a2.RegisterKey(), issued, done)
	}
	if len(e2.fake.Received()) != 1 {
		t.Error("no inventory after registration")
	}
	// The registration holds for half its 30 days: no REGISTER at the next contact.
	n := len(e2.fake.RegisterAnswers())
	e2.clock.Advance(25 * time.Hour)
	if _, err := cycle(t, a2); err != nil {
		t.Fatal(err)
	}
	if len(e2.fake.RegisterAnswers()) != n {
		t.Error("registered again before half the expiration")
	}
}

// TestRegisterFailures: every failure branch of the draft.
func TestRegisterFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       glpifake.RegisterConfig
		glpi501   bool
		wantErr   string
		failures  int
		status    string
		inventory bool
	}{
		{name: "glpi answers 501", glpi501: true, inventory: true},
		{name: "simple registration", cfg: glpifake.RegisterConfig{Outcome: "registered"}, status: "registered", inventory: true},
		{name: "forbidden", cfg: glpifake.RegisterConfig{Outcome: "forbidden"}, wantErr: "forbidden", status: "error"},
		{name: "manual validation", cfg: glpifake.RegisterConfig{Outcome: "manual"}, status: "pending", inventory: true},
		{name: "challenge for another agent", cfg: glpifake.RegisterConfig{WrongAgent: true}, wantErr: "not for this agent", failures: 1, status: "error"},
		{name: "server with another token", cfg: glpifake.RegisterConfig{WrongToken: "11111111-2222-3333-4444-555555555555"}, wantErr: "not for this agent", failures: 1, status: "error"},
		{name: "bad final challenge", cfg: glpifake.RegisterConfig{BadFinal: true}, wantErr: "does not prove the token", failures: 1, status: "error"},
		{name: "server rejects the answer", cfg: glpifake.RegisterConfig{RejectAnswer: true}, wantErr: "challenge failed", status: "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, a := regEnv(t, tc.cfg)
			if tc.glpi501 {
				e.fake.Set(func(s *glpifake.Server) { s.RegisterMode = false })
			}
			_, err := cycle(t, a)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if got := e.fake.RegisterFailures(); got != tc.failures {
				t.Errorf("failure messages = %d, want %d", got, tc.failures)
			}
			if a.RegisterStatus() != tc.status {
				t.Errorf("status %q, want %q", a.RegisterStatus(), tc.status)
			}
			if got := len(e.fake.Received()) == 1; got != tc.inventory {
				t.Errorf("inventory sent = %v", got)
			}
			if a.RegisterKey() != "" {
				t.Errorf("key stored on a failure branch")
			}
			if tc.status == "error" {
				// No message at all to the server until the expiration.
				var before int
				e.fake.Get(func(s *glpifake.Server) { before = len(s.Requests) })
				e.clock.Advance(30 * time.Minute)
				res, _ := cycle(t, a)
				if res.Next < 30*time.Minute {
					t.Errorf("next = %s while the REGISTER error holds", res.Next)
				}
				var after int
				e.fake.Get(func(s *glpifake.Server) { after = len(s.Requests) })
				if after != before {
					t.Errorf("%d requests sent while REGISTER error holds", after-before)
				}
			}
		})
	}
}

// TestDebugLogHasNoSecret runs a full cycle (REGISTER with the shared token, CONTACT,
// inventory, deploy) with every exchange logged at debug, and greps the log for the secrets.
func TestDebugLogHasNoSecret(t *testing.T) {
	e := newEnv(t)
	e.logs = protocoltest.NewLogCapture(t)
	st, err := state.Open(e.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Server("glpi-test").Save(map[string]any{"deviceid": "pc1-2026-03-04-10-00-00", "agentid": vecAgentID, "fingerprint": "4c4c4544-0042-3510-8052-b4c04f4b4e31"}); err != nil {
		t.Fatal(err)
	}
	e.fake.Set(func(s *glpifake.Server) { s.RegisterMode = true; s.Register = glpifake.RegisterConfig{Token: vecToken} })
	e.fake.AddJob("job-log", nil, []map[string]any{{"cmd": map[string]any{"exec": "echo done", "name": "echo"}}})
	a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.Register = true; o.Token = vecToken })
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	key := a.RegisterKey()
	if key == "" {
		t.Fatal("no key registered")
	}
	e.logs.CheckNoSecrets(t, vecToken, strings.ReplaceAll(vecToken, "-", ""), key)
}
