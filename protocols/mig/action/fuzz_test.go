package action

import (
	"testing"
	"time"
)

// FuzzHandle feeds arbitrary command bodies to the engine: it must never panic, and whatever
// it answers must pass the scheduler's acceptance rules.
func FuzzHandle(f *testing.F) {
	k := getKeys(f)
	a := opsAction(f, "echo")
	signWith(f, a, k.alice)
	f.Add(string(command(f, a)))
	f.Add(`{"id":1,"action":{"name":"n","target":"t","syntaxversion":2,"validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z","operations":[],"pgpsignatures":["=AAAA","wsBc=Evqv","` + a.PGPSignatures[0][:40] + `=AAAA"]},"agent":{"name":"a","queueloc":"q"},"status":"sent"}`)
	f.Add(`{"id":1e300,"action":{"operations":[{"module":"echo","parameters":"!!","is_compressed":true}]}}`)
	reg, _ := fakeRegistry()
	eng := &Engine{
		Verifier: &Verifier{Keyring: k.keyring(f), ACL: testACL(k), Now: func() time.Time { return vFrom.Add(time.Minute) }},
		Modules:  reg, Now: func() time.Time { return vFrom.Add(time.Minute) }, DefaultTimeout: 20 * time.Millisecond,
		QueueLoc: "linux.q",
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := eng.Handle(t.Context(), []byte(body))
		if err != nil {
			return
		}
		if len(out) < 10 || out[0] != '{' || out[len(out)-1] != '}' {
			t.Fatalf("answer the scheduler would drop: %q", out)
		}
	})
}
