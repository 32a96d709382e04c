package oco_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/omniagent/omniagent/localuser"
	"github.com/omniagent/omniagent/localuser/localusertest"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

func verifies(t *testing.T, pw, hash string) bool {
	t.Helper()
	ok, err := localuser.VerifySHA512Crypt([]byte(pw), hash)
	return err == nil && ok
}

// grepTree fails when s appears in any file below dir.
func grepTree(t *testing.T, dir, s string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), s) {
				t.Errorf("the password appears in %s", p)
			}
		}
		return nil
	})
}

// End to end on a real account: the server stores the password first, the account's new
// SHA-512 hash verifies with exactly that password, and it appears in no log or state file.
func TestPasswordRotationLinux(t *testing.T) {
	user := localusertest.ThrowawayUser(t, "omnioco")
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.logs = protocoltest.NewLogCapture(t)
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: user, Alphabet: testAlphabet, Length: 24, ValidSeconds: 3600})
	a := e.adapter(rotating(user))
	res, err := a.Cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stored := e.fake.Passwords("pc1")
	if len(stored) != 1 {
		t.Fatalf("server holds %d passwords, want 1 (summary %q)", len(stored), res.Summary)
	}
	pw := stored[0].Password
	if utf8.RuneCountInString(pw) != 24 || strings.Trim(pw, testAlphabet) != "" {
		t.Fatalf("password %q is not 24 characters of the rule's alphabet", pw)
	}
	if hash := localusertest.ShadowHash(t, user); !strings.HasPrefix(hash, "$6$") || !verifies(t, pw, hash) {
		t.Fatalf("the account's hash %q does not verify with the password the server holds", hash)
	}
	if !strings.Contains(res.Summary, "passwords: 1 rotated") {
		t.Errorf("summary %q", res.Summary)
	}
	if strings.Contains(e.logs.String(), pw) {
		t.Fatal("the password appears in the log")
	}
	grepTree(t, e.stateDir, pw)

	// Not due again: the next cycle changes nothing.
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Passwords("pc1")); n != 1 {
		t.Fatalf("a second rotation happened before valid_seconds (%d passwords)", n)
	}
	// Once the rule's validity has passed, the server asks again and the account follows.
	e.clock.Advance(2 * time.Hour)
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.Passwords("pc1"); len(got) != 2 || !verifies(t, got[0].Password, localusertest.ShadowHash(t, user)) || got[0].Password == pw {
		t.Fatalf("after validity: %d passwords; the account must have the newest", len(got))
	}
}

// The agent dies after the server stored the password and before the account changed: the
// server then shows a password the account does not have, and will not ask again until the
// rule's validity passes. The state file's marker (no password in it) makes the next cycle
// rotate that account again at once, so both agree.
func TestPasswordRotationCrashBetweenStoreAndChange(t *testing.T) {
	user := localusertest.ThrowawayUser(t, "omnioco")
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.fake.AddPasswordRule(ocofake.PasswordRule{Username: user, Alphabet: testAlphabet, Length: 20, ValidSeconds: 30 * 24 * 3600})
	before := localusertest.ShadowHash(t, user)
	a := e.adapter(rotating(user))
	oco.SetAfterPasswordsStored(a, func() bool { return true })
	if _, err := a.Cycle(context.Background()); err == nil {
		t.Fatal("the simulated crash did not stop the cycle")
	}
	first := e.fake.Passwords("pc1")
	if len(first) != 1 || localusertest.ShadowHash(t, user) != before {
		t.Fatalf("after the crash: server holds %d passwords, account changed: %v", len(first), localusertest.ShadowHash(t, user) != before)
	}
	if m := readState(t, e.stateDir); m["pending_password_rotations"] == nil {
		t.Fatalf("no pending-rotation marker in the state: %v", m)
	}
	grepTree(t, e.stateDir, first[0].Password)

	restarted := e.adapter(rotating(user))
	if _, err := restarted.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := e.fake.Passwords("pc1")
	if len(got) != 2 || got[0].Password == first[0].Password {
		t.Fatalf("the next cycle did not rotate again (%d passwords)", len(got))
	}
	if !verifies(t, got[0].Password, localusertest.ShadowHash(t, user)) {
		t.Fatal("the account does not have the password the server shows after recovery")
	}
	if m := readState(t, e.stateDir); m["pending_password_rotations"] != nil {
		t.Fatal("the marker stayed after the recovery")
	}
}
