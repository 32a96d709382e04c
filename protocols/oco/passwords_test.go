package oco_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

const testAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!"

func rotating(users ...string) func(*config.Server, *oco.Options) {
	return func(_ *config.Server, o *oco.Options) {
		o.PasswordRotation = true
		o.PasswordRotationUsers = users
	}
}

func passwordCalls(f *ocofake.Server) int {
	n := 0
	for _, x := range f.Exchanges() {
		if x.Method == oco.MethodPasswords {
			n++
		}
	}
	return n
}

// Off by default: the server's rule is logged and refused, nothing is generated or sent.
func TestPasswordRotationOffByDefault(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: "localadmin", Alphabet: testAlphabet, Length: 20, ValidSeconds: 3600})
	res, err := e.adapter(nil).Cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Summary, "password_rotation = false") {
		t.Errorf("summary %q does not say the rotation was refused", res.Summary)
	}
	if n := passwordCalls(e.fake); n != 0 || len(e.fake.Passwords("pc1")) != 0 {
		t.Fatalf("%d passwords calls, %d stored: nothing may be sent when the rotation is off", n, len(e.fake.Passwords("pc1")))
	}
}

// A rule for a user outside password_rotation_users is refused and reported.
func TestPasswordRotationUserNotAllowed(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: "Administrator", Alphabet: testAlphabet, Length: 20, ValidSeconds: 3600})
	res, err := e.adapter(rotating("localadmin")).Cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Summary, "1 refused") {
		t.Errorf("summary %q does not report the refusal", res.Summary)
	}
	if passwordCalls(e.fake) != 0 {
		t.Fatal("a password was sent for a user not in password_rotation_users")
	}
}

// The local change fails (no such account): the password already stored on the server is
// revoked within the server's 5-minute window, and the log says why without the password.
func TestPasswordRotationLocalFailureRevokes(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.logs = protocoltest.NewLogCapture(t)
	const user = "omniagent-no-such-user"
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: user, Alphabet: testAlphabet, Length: 24, ValidSeconds: 3600})
	a := e.adapter(rotating(user))
	var stored string
	oco.SetAfterPasswordsStored(a, func() bool {
		if p := e.fake.Passwords("pc1"); len(p) == 1 {
			stored = p[0].Password
		}
		return false
	})
	res, err := a.Cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stored == "" {
		t.Fatal("the server never held the new password: it must be stored before the local change")
	}
	if got := e.fake.Passwords("pc1"); len(got) != 0 {
		t.Fatalf("the server still holds %d password(s) after the revoke", len(got))
	}
	if !strings.Contains(res.Summary, "1 failed and revoked") {
		t.Errorf("summary %q", res.Summary)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "revoking") || !strings.Contains(logs, "no such local user") {
		t.Errorf("the log does not say why the password was revoked:\n%s", logs)
	}
	if strings.Contains(logs, stored) {
		t.Fatal("the generated password appears in the log")
	}
}

// The server only honours a revoke within 5 minutes of storing: later, the password stays.
func TestPasswordRotationLateRevokeIgnoredByServer(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	const user = "omniagent-no-such-user"
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: user, Alphabet: testAlphabet, Length: 24, ValidSeconds: 3600})
	a := e.adapter(rotating(user))
	oco.SetAfterPasswordsStored(a, func() bool { e.clock.Advance(6 * time.Minute); return false })
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.Passwords("pc1"); len(got) != 1 {
		t.Fatalf("the server holds %d passwords; a revoke after 5 minutes must not delete it", len(got))
	}
}
