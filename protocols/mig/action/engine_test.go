package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// fakeModule is a tiny in-test module counting its runs.
type fakeModule struct {
	calls atomic.Int32
	run   func(ctx context.Context, params json.RawMessage) (modules.Result, error)
}

func (m *fakeModule) Run(ctx context.Context, params json.RawMessage) (modules.Result, error) {
	m.calls.Add(1)
	return m.run(ctx, params)
}

type echoElements struct {
	N   float64         `json:"n"`
	Got json.RawMessage `json:"got"`
}

type echoStats struct {
	Z     string `json:"z"`
	Count int    `json:"count"`
}

// fakeRegistry returns the test modules: echo (success, params echoed), nothing (module-level
// failure), err (run error), sleep (honours ctx), stubborn (ignores ctx), panic, nul.
func fakeRegistry() (modules.Registry, map[string]*fakeModule) {
	m := map[string]*fakeModule{
		"echo": {run: func(_ context.Context, p json.RawMessage) (modules.Result, error) {
			return modules.Result{FoundAnything: true, Success: true,
				Elements: echoElements{N: 2.5, Got: p}, Statistics: echoStats{Z: "last", Count: 1}}, nil
		}},
		"nothing": {run: func(context.Context, json.RawMessage) (modules.Result, error) {
			return modules.Failed(errors.New("bad parameters")), nil
		}},
		"err": {run: func(context.Context, json.RawMessage) (modules.Result, error) {
			return modules.Result{}, errors.New("disk on fire")
		}},
		"sleep": {run: func(ctx context.Context, _ json.RawMessage) (modules.Result, error) {
			<-ctx.Done()
			return modules.Result{}, ctx.Err()
		}},
		"stubborn": {run: func(context.Context, json.RawMessage) (modules.Result, error) {
			time.Sleep(2 * time.Second)
			return modules.Result{Success: true}, nil
		}},
		"panic": {run: func(context.Context, json.RawMessage) (modules.Result, error) {
			panic("boom")
		}},
		"nul": {run: func(context.Context, json.RawMessage) (modules.Result, error) {
			return modules.Result{Success: true, Elements: map[string]any{"a\x00": "b\x00c"}, Errors: []string{"x\x00"}}, nil
		}},
	}
	reg := modules.Registry{}
	for n, f := range m {
		reg[n] = f
	}
	return reg, m
}

// engineFixture signs actions with alice and bob and verifies them under a default ACL that
// accepts alice alone, at a fixed clock 1 minute into the window.
type engineFixture struct {
	k   *testKeys
	now time.Time
	eng *Engine
	mod map[string]*fakeModule
}

func newEngineFixture(t *testing.T) *engineFixture {
	k := getKeys(t)
	reg, mod := fakeRegistry()
	f := &engineFixture{k: k, now: vFrom.Add(time.Minute), mod: mod}
	clock := func() time.Time { return f.now }
	f.eng = &Engine{
		Verifier: &Verifier{Keyring: k.keyring(t), Now: clock, ACL: ACL{"default": {MinimumWeight: 1,
			Investigators: map[string]ACLInvestigator{"alice": {Fingerprint: fpOf(k.alice), Weight: 1}}}}},
		Modules:  reg,
		Now:      clock,
		QueueLoc: "linux.NEW",
	}
	return f
}

// command wraps an action into a scheduler command body, with fields the agent must drop.
func command(t testing.TB, a *Action) []byte {
	t.Helper()
	act, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"id":28054714187918,"action":` + string(act) + `,` +
		`"agent":{"id":28054714449929,"name":"vm","queueloc":"linux.old","mode":"daemon","version":"1.4.0","pid":11746,` +
		`"starttime":"2026-11-22T08:00:00Z","destructiontime":"9998-01-11T11:11:11Z","heartbeatts":"2026-11-22T09:00:00Z",` +
		`"refreshts":"2026-11-22T08:00:00Z","status":"online","environment":{"init":"systemd","ident":"Debian 12",` +
		`"os":"linux","arch":"amd64","isproxied":false,"addresses":["192.0.2.2/24"],"publicip":"198.51.100.7","aws":{},` +
		`"modules":["file"]},"tags":{"z":"1","environment":"e2e"}},"status":"sent",` +
		`"results":[{"foundanything":false,"success":false,"elements":null,"statistics":null,"errors":null}],` +
		`"starttime":"2026-11-22T09:00:02.09623783Z","finishtime":"0001-01-01T00:00:00Z","unknown":true}`)
}

func opsAction(t testing.TB, mods ...string) *Action {
	a := baseAction(t)
	a.Operations = nil
	for _, m := range mods {
		a.Operations = append(a.Operations, Operation{Module: m, Parameters: map[string]any{"b": 1.0, "a": "x"}})
	}
	if a.Operations == nil {
		a.Operations = []Operation{}
	}
	return a
}

func decodeResult(t *testing.T, out []byte) Command {
	t.Helper()
	if len(out) < 10 || out[0] != '{' || out[len(out)-1] != '}' {
		t.Fatalf("scheduler would drop this body: %q", out)
	}
	var c Command
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("result does not decode as a MIG command: %v", err)
	}
	if c.Agent.Name == "" || c.Agent.QueueLoc == "" || c.Status == "" {
		t.Fatalf("missing agent.name, agent.queueloc or status: %s", out)
	}
	return c
}

func TestHandleEnvelopeGolden(t *testing.T) {
	f := newEngineFixture(t)
	a := decodeAction(t, `{"id":28054714449932,"name":"echo","target":"status='online'","description":{},"threat":{},
		"validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z",
		"operations":[{"module":"echo","parameters":{"b":1,"a":"x"}}],"status":"preparing",
		"starttime":"2026-11-22T09:00:01.5Z","finishtime":"0001-01-01T00:00:00Z","lastupdatetime":"0001-01-01T00:00:00Z",
		"counters":{"sent":1},"syntaxversion":2}`)
	signWith(t, a, f.k.alice)
	out, err := f.eng.Handle(t.Context(), command(t, a))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":28054714187918,"action":{"id":28054714449932,"name":"echo","target":"status='online'","description":{},"threat":{},` +
		`"validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z","operations":[{"module":"echo","parameters":{"a":"x","b":1}}],` +
		`"pgpsignatures":["` + a.PGPSignatures[0] + `"],"status":"preparing","starttime":"2026-11-22T09:00:01.5Z",` +
		`"finishtime":"0001-01-01T00:00:00Z","lastupdatetime":"0001-01-01T00:00:00Z","counters":{"sent":1},"syntaxversion":2},` +
		`"agent":{"id":28054714449929,"name":"vm","queueloc":"linux.NEW","mode":"daemon","version":"1.4.0","pid":11746,` +
		`"starttime":"2026-11-22T08:00:00Z","destructiontime":"9998-01-11T11:11:11Z","heartbeatts":"2026-11-22T09:00:00Z",` +
		`"refreshts":"2026-11-22T08:00:00Z","status":"online","environment":{"init":"systemd","ident":"Debian 12","os":"linux",` +
		`"arch":"amd64","isproxied":false,"addresses":["192.0.2.2/24"],"publicip":"198.51.100.7","aws":{},"modules":["file"]},` +
		`"tags":{"environment":"e2e","z":"1"}},"status":"success",` +
		`"results":[{"foundanything":true,"success":true,"elements":{"got":{"a":"x","b":1},"n":2.5},"statistics":{"count":1,"z":"last"},"errors":null}],` +
		`"starttime":"2026-11-22T09:00:02.09623783Z","finishtime":"0001-01-01T00:00:00Z"}`
	if string(out) != want {
		t.Fatalf("result envelope\n got %s\nwant %s", out, want)
	}
	decodeResult(t, out)
}

func TestHandleExecution(t *testing.T) {
	type res struct {
		success bool
		found   bool
		errs    string // substring of the only error; "" means errors null
		zero    bool   // the all-zero timeout result
	}
	tests := []struct {
		name     string
		mods     []string
		timeout  time.Duration
		nowShift time.Duration // clock moved from 1 minute into the window
		status   string
		results  []res
	}{
		{name: "success", mods: []string{"echo"}, status: StatusSuccess, results: []res{{success: true, found: true}}},
		{name: "module-level failure keeps command success", mods: []string{"nothing"}, status: StatusSuccess,
			results: []res{{errs: "bad parameters"}}},
		{name: "module error fails the command", mods: []string{"err"}, status: StatusFailed, results: []res{{errs: "disk on fire"}}},
		{name: "unknown module", mods: []string{"nope"}, status: StatusFailed, results: []res{{errs: "module 'nope' is not available"}}},
		{name: "agentdestroy is not available", mods: []string{"agentdestroy"}, status: StatusFailed,
			results: []res{{errs: "module 'agentdestroy' is not available"}}},
		{name: "module timeout", mods: []string{"sleep"}, timeout: 30 * time.Millisecond, status: StatusTimeout, results: []res{{zero: true}}},
		{name: "module ignoring its context is abandoned", mods: []string{"stubborn"}, timeout: 30 * time.Millisecond,
			status: StatusTimeout, results: []res{{zero: true}}},
		{name: "timeout capped by expireafter", mods: []string{"sleep"}, timeout: time.Hour,
			nowShift: 9*time.Minute - 30*time.Millisecond, status: StatusTimeout, results: []res{{zero: true}}},
		{name: "panic becomes failed", mods: []string{"panic"}, status: StatusFailed, results: []res{{errs: "module 'panic' panicked: boom"}}},
		{name: "first non-success in operation order", mods: []string{"echo", "sleep", "err"}, timeout: 30 * time.Millisecond,
			status: StatusTimeout, results: []res{{success: true, found: true}, {zero: true}, {errs: "disk on fire"}}},
		{name: "failed before timeout in operation order", mods: []string{"err", "sleep"}, timeout: 30 * time.Millisecond,
			status: StatusFailed, results: []res{{errs: "disk on fire"}, {zero: true}}},
		{name: "NUL characters replaced", mods: []string{"nul"}, status: StatusSuccess, results: []res{{success: true, errs: "xNULL"}}},
		{name: "no operations", mods: nil, status: StatusSuccess, results: []res{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEngineFixture(t)
			f.now = f.now.Add(tt.nowShift)
			f.eng.DefaultTimeout = tt.timeout
			a := opsAction(t, tt.mods...)
			signWith(t, a, f.k.alice)
			out, err := f.eng.Handle(t.Context(), command(t, a))
			if err != nil {
				t.Fatal(err)
			}
			c := decodeResult(t, out)
			if c.Status != tt.status {
				t.Fatalf("status %q, want %q: %s", c.Status, tt.status, out)
			}
			if len(c.Results) != len(tt.results) {
				t.Fatalf("%d results, want %d", len(c.Results), len(tt.results))
			}
			for i, w := range tt.results {
				g := c.Results[i]
				if w.zero {
					if g.Success || g.FoundAnything || g.Elements != nil || g.Statistics != nil || g.Errors != nil {
						t.Errorf("result %d = %+v, want all zero", i, g)
					}
					continue
				}
				if g.Success != w.success || g.FoundAnything != w.found {
					t.Errorf("result %d = %+v, want success=%v found=%v", i, g, w.success, w.found)
				}
				switch {
				case w.errs == "" && g.Errors != nil:
					t.Errorf("result %d errors %v, want null", i, g.Errors)
				case w.errs != "" && (len(g.Errors) != 1 || !strings.Contains(g.Errors[0], w.errs)):
					t.Errorf("result %d errors %v, want one containing %q", i, g.Errors, w.errs)
				}
			}
			if bytes.Contains(out, []byte(`\u0000`)) {
				t.Fatalf("NUL in result: %s", out)
			}
		})
	}
}

// Any verification failure answers failed with the reason in every result and runs nothing.
func TestHandleRefused(t *testing.T) {
	tests := []struct {
		name    string
		pre     func(a *Action)                   // before signing
		mutate  func(f *engineFixture, a *Action) // after signing
		signers func(k *testKeys) []*openpgp.Entity
		reason  string // tail of the error in every result
	}{
		{name: "unknown signer", signers: func(k *testKeys) []*openpgp.Entity { return []*openpgp.Entity{k.carol} },
			reason: "action ACL verification failed: failed to retrieve fingerprint from signatures: GetFingerprintFromSignature() -> openpgp: signature made by unknown entity"},
		{name: "weight below minimum", signers: func(k *testKeys) []*openpgp.Entity { return []*openpgp.Entity{k.bob} },
			reason: "permission denied for operation echo, insufficient signatures weight (need 1, got 0)"},
		{name: "expired", mutate: func(f *engineFixture, _ *Action) { f.now = vTo.Add(time.Second) },
			reason: "action validation failed: action expireafter is in the past"},
		{name: "not yet valid", mutate: func(f *engineFixture, _ *Action) { f.now = vFrom.Add(-time.Second) },
			reason: "Action ValidFrom date is in the future"},
		{name: "syntax version", mutate: func(_ *engineFixture, a *Action) { a.SyntaxVersion = 1 },
			reason: "action validation failed: wring syntax version, expected 2"},
		{name: "tampered parameters", mutate: func(_ *engineFixture, a *Action) { a.Operations[1].Parameters = map[string]any{"a": "y"} },
			reason: "GetFingerprintFromSignature() -> openpgp: invalid signature"},
		{name: "duplicate signer", signers: func(k *testKeys) []*openpgp.Entity { return []*openpgp.Entity{k.alice, k.alice} },
			reason: "used to sign multiple times"},
		{name: "compressed parameters not gzip",
			pre:    func(a *Action) { a.Operations[0].Parameters, a.Operations[0].IsCompressed = "bm90IGd6aXA=", true },
			reason: "parseCommands() -> DecompressOperationParam() -> operation 0 (echo): gunzip"},
		{name: "no verifier", mutate: func(f *engineFixture, _ *Action) { f.eng.Verifier = nil }, reason: "no verifier configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEngineFixture(t)
			a := opsAction(t, "echo", "echo")
			if tt.pre != nil {
				tt.pre(a)
			}
			signers := []*openpgp.Entity{f.k.alice}
			if tt.signers != nil {
				signers = tt.signers(f.k)
			}
			signWith(t, a, signers...)
			if tt.mutate != nil {
				tt.mutate(f, a)
			}
			out, err := f.eng.Handle(t.Context(), command(t, a))
			if err != nil {
				t.Fatal(err)
			}
			c := decodeResult(t, out)
			if c.Status != StatusFailed || len(c.Results) != 2 {
				t.Fatalf("status %q with %d results, want failed with 2: %s", c.Status, len(c.Results), out)
			}
			for i, r := range c.Results {
				if r.Success || r.FoundAnything || r.Elements != nil || r.Statistics != nil || len(r.Errors) != 1 ||
					!strings.HasPrefix(r.Errors[0], "parseCommands() -> ") || !strings.Contains(r.Errors[0], tt.reason) {
					t.Errorf("result %d = %+v, want one error containing %q", i, r, tt.reason)
				}
			}
			if n := f.mod["echo"].calls.Load(); n != 0 {
				t.Fatalf("module ran %d times after a refusal", n)
			}
			if c.Agent.PID != 11746 || c.Agent.QueueLoc != "linux.NEW" || c.ID != 28054714187918 {
				t.Fatalf("envelope not echoed: %+v", c.Agent)
			}
		})
	}
}

func TestHandleNoOperationsRefusedStillAnswers(t *testing.T) {
	f := newEngineFixture(t)
	a := opsAction(t)
	a.Operations = nil
	signWith(t, a, f.k.alice)
	out, err := f.eng.Handle(t.Context(), command(t, a))
	if err != nil {
		t.Fatal(err)
	}
	c := decodeResult(t, out)
	if c.Status != StatusFailed || len(c.Results) != 1 || !strings.HasSuffix(c.Results[0].Errors[0], "action operations is empty") {
		t.Fatalf("got %s", out)
	}
}

func TestHandleCompressedParameters(t *testing.T) {
	f := newEngineFixture(t)
	a := opsAction(t, "echo")
	packed := compressParams(t, map[string]any{"z": []any{1.0, "<>"}, "a": true})
	a.Operations[0].Parameters, a.Operations[0].IsCompressed = packed, true
	signWith(t, a, f.k.alice)
	out, err := f.eng.Handle(t.Context(), command(t, a))
	if err != nil {
		t.Fatal(err)
	}
	c := decodeResult(t, out)
	if c.Status != StatusSuccess {
		t.Fatalf("status %s: %s", c.Status, out)
	}
	got, _ := json.Marshal(c.Results[0].Elements.(map[string]any)["got"])
	if string(got) != `{"a":true,"z":[1,"\u003c\u003e"]}` {
		t.Fatalf("module got parameters %s", got)
	}
	if c.Action.Operations[0].Parameters != packed || !c.Action.Operations[0].IsCompressed {
		t.Fatal("echoed action does not carry the parameters as received")
	}
}

func TestHandleUndecodable(t *testing.T) {
	f := newEngineFixture(t)
	for name, body := range map[string]string{
		"not JSON":      `{"id":`,
		"id zero":       `{"id":0,"action":{},"agent":{"name":"vm"}}`,
		"id missing":    `{"action":{}}`,
		"wrong id type": `{"id":"1"}`,
	} {
		out, err := f.eng.Handle(t.Context(), []byte(body))
		if err == nil || out != nil {
			t.Errorf("%s: out %q err %v, want an error and no answer", name, out, err)
		}
	}
}

// A cancelled parent context answers the running operations as timed out instead of hanging.
func TestHandleParentContextCancelled(t *testing.T) {
	f := newEngineFixture(t)
	a := opsAction(t, "sleep")
	signWith(t, a, f.k.alice)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for f.mod["sleep"].calls.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	out, err := f.eng.Handle(ctx, command(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeResult(t, out); c.Status != StatusTimeout {
		t.Fatalf("status %s", c.Status)
	}
}

func TestHandleKeepsQueueLocWhenUnset(t *testing.T) {
	f := newEngineFixture(t)
	f.eng.QueueLoc = ""
	a := opsAction(t, "echo")
	signWith(t, a, f.k.alice)
	out, err := f.eng.Handle(t.Context(), command(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeResult(t, out); c.Agent.QueueLoc != "linux.old" {
		t.Fatalf("queueloc %q", c.Agent.QueueLoc)
	}
}
