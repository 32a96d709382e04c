package jumpcloud_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

func attrMap(s *jcfake.System) map[string]string {
	m := map[string]string{}
	for _, a := range s.Attributes {
		m[a.Name] = a.Value
	}
	return m
}

func writes(v jcfake.View) (puts, posts int) {
	for k, n := range v.Counts {
		switch {
		case strings.HasPrefix(k, "PUT "):
			puts += n
		case strings.HasPrefix(k, "POST "):
			posts += n
		}
	}
	return
}

// TestCycles: the first cycle joins groups, binds users and fills the record; a second cycle
// with no change sends no PUT and no POST; a changed inventory sends exactly one PUT.
func TestCycles(t *testing.T) {
	e := newEnv(t, false)
	a := e.adapter(e.options())
	res, err := cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	v := e.fake.Inspect(sysID)
	if got := strings.Join(v.Groups, ","); got != groupA+","+groupB {
		t.Errorf("groups = %s", got)
	}
	if u := v.System.Users; len(u) != 2 || u[userU] != (jcfake.Sudo{Enabled: true, WithoutPassword: true}) || u[userV] != (jcfake.Sudo{}) {
		t.Errorf("users = %v", u)
	}
	if v.System.DisplayName != "pc1-PF2ABCDE" {
		t.Errorf("displayName = %q", v.System.DisplayName)
	}
	if want := "Dell Inc. Latitude 7440, Ubuntu 24.04, Intel Core i7-1365U, 16 GiB RAM, serial PF2ABCDE"; v.System.Description != want {
		t.Errorf("description = %q, want %q", v.System.Description, want)
	}
	attrs := attrMap(v.System)
	want := map[string]string{"admu": "InProgress", "omniagentModel": "Dell Inc. Latitude 7440", "omniagentSerial": "PF2ABCDE",
		"omniagentOS": "Ubuntu 24.04", "omniagentCPU": "Intel Core i7-1365U", "omniagentMemoryGiB": "16", "omniagentVersion": "1.2.3",
		"omniagentInventoryChanged": "2026-11-05T03:04:05Z"}
	if fmt.Sprint(attrs) != fmt.Sprint(want) {
		t.Errorf("attributes = %v\nwant %v", attrs, want)
	}
	if puts, posts := writes(v); puts != 1 || posts != 4 {
		t.Errorf("first cycle: %d PUT, %d POST; want 1 and 4", puts, posts)
	}
	for _, l := range v.Log {
		if l.Status == http.StatusUnauthorized {
			t.Errorf("401 on %s %s: %s", l.Method, l.Target, l.Reason)
		}
	}
	if res.Details["groups"] != groupA+", "+groupB || res.Details["system_key"] != sysID {
		t.Errorf("details = %v", res.Details)
	}
	if got := res.Details["users"]; got != userU+" (sudo, nopasswd, direct), "+userV+" (direct)" {
		t.Errorf("users detail = %q", got)
	}

	// Second cycle, nothing changed: reads only.
	e.fake.ResetLog()
	e.clock.Advance(time.Hour)
	e.fclock.Advance(time.Hour)
	res, err = cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if puts, posts := writes(e.fake.Inspect(sysID)); puts != 0 || posts != 0 {
		t.Errorf("second cycle: %d PUT, %d POST; want none", puts, posts)
	}
	if res.Summary != "record, groups and users up to date" {
		t.Errorf("summary = %q", res.Summary)
	}

	// Changed inventory (RAM upgrade): exactly one PUT, with description and attributes.
	e.fake.ResetLog()
	e.inv.mu.Lock()
	e.inv.inv.Memory.TotalBytes = 32 << 30
	e.inv.mu.Unlock()
	e.clock.Advance(time.Hour)
	e.fclock.Advance(time.Hour)
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	v = e.fake.Inspect(sysID)
	if puts, posts := writes(v); puts != 1 || posts != 0 {
		t.Errorf("changed inventory: %d PUT, %d POST; want 1 and 0", puts, posts)
	}
	attrs = attrMap(v.System)
	if attrs["omniagentMemoryGiB"] != "32" || attrs["omniagentInventoryChanged"] != "2026-11-05T05:04:05Z" || attrs["admu"] != "InProgress" {
		t.Errorf("attributes after change = %v", attrs)
	}
	if !strings.Contains(v.System.Description, "32 GiB RAM") {
		t.Errorf("description = %q", v.System.Description)
	}
}

// TestGroupsAndUsersOwnership: only what we added is removed when dropped from the config;
// a changed sudo flag is one op:update.
func TestGroupsAndUsersOwnership(t *testing.T) {
	e := newEnv(t, false)
	e.fake.JoinGroup(groupX, sysID)
	e.fake.JoinGroup(groupB, sysID) // already there: not ours
	o := e.options()
	if _, err := cycle(t, e.adapter(o)); err != nil {
		t.Fatal(err)
	}
	o2 := e.options()
	o2.SystemGroups = nil
	o2.Users = []jumpcloud.User{{ID: userV, Sudo: true}}
	e.fake.ResetLog()
	if _, err := cycle(t, e.adapter(o2)); err != nil {
		t.Fatal(err)
	}
	v := e.fake.Inspect(sysID)
	if got := strings.Join(v.Groups, ","); got != groupB+","+groupX {
		t.Errorf("groups = %s; want B and X kept (not ours), A left", got)
	}
	var ops []string
	for _, l := range v.Log {
		if l.Method == http.MethodPost {
			ops = append(ops, l.Body)
		}
	}
	if len(ops) != 3 || !strings.Contains(ops[0], `"op":"remove"`) || !strings.Contains(ops[1], `"op":"update"`) || !strings.Contains(ops[2], `"op":"remove"`) {
		t.Errorf("POSTs = %q; want remove A, update V, remove U", ops)
	}
	if u := v.System.Users; len(u) != 1 || u[userV] != (jcfake.Sudo{Enabled: true}) {
		t.Errorf("users = %v", u)
	}
}

// TestDeregister deletes the record; later cycles do nothing for that systemKey.
func TestDeregister(t *testing.T) {
	e := newEnv(t, false)
	a := e.adapter(e.options())
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	if err := a.Deregister(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := e.fake.Inspect(sysID)
	if !v.Deleted || v.System != nil || len(v.Groups) != 0 {
		t.Fatalf("after deregister: %+v", v)
	}
	e.fake.ResetLog()
	res, err := cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Inspect(sysID).Log); n != 0 || res.Details["deleted"] == "" {
		t.Errorf("cycle after delete: %d requests, details %v", n, res.Details)
	}
	// Re-enrolled under a new key: work resumes.
	e.fake.AddSystem(&jcfake.System{ID: otherID, Pub: &testKey().PublicKey})
	e.writeConf(otherID, "agent.jumpcloud.com")
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	if g := e.fake.Inspect(otherID).Groups; len(g) != 2 {
		t.Errorf("re-enrolled system groups = %v", g)
	}
}

// TestUninstallOptIn: OnUninstall deletes only with delete_on_uninstall.
func TestUninstallOptIn(t *testing.T) {
	e := newEnv(t, false)
	o := e.options()
	if err := e.adapter(o).OnUninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.fake.Inspect(sysID).Deleted {
		t.Fatal("deleted without delete_on_uninstall")
	}
	o.DeleteOnUninstall = true
	if err := e.adapter(o).OnUninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !e.fake.Inspect(sysID).Deleted {
		t.Fatal("not deleted with delete_on_uninstall")
	}
}

// TestClockSkew: the local clock is 10 minutes ahead; the 401 names the skew.
func TestClockSkew(t *testing.T) {
	for _, d := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		e := newEnv(t, false)
		e.clock.Advance(d)
		res, err := cycle(t, e.adapter(e.options()))
		var ae *jumpcloud.AuthError
		if !errors.As(err, &ae) {
			t.Fatalf("err = %v", err)
		}
		if want := fmt.Sprintf("clock skew of %d s", int(d.Seconds())); !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "jumpcloud: 401 on GET /api/systems/"+sysID+": not authorized; likely causes: ") {
			t.Errorf("err = %v; want %q", err, want)
		}
		if res.Next < 15*time.Minute {
			t.Errorf("next after 401 = %s; want a back-off", res.Next)
		}
		if l := e.fake.Inspect(sysID).Log; len(l) != 1 || !strings.Contains(l[0].Reason, "Date skewed") {
			t.Errorf("fake log = %+v", l)
		}
	}
}

// TestWrongKeyAndPortal: a wrong key, and a portal-enrolled system, get 401s naming the causes.
func TestWrongKeyAndPortal(t *testing.T) {
	e := newEnv(t, false)
	e.fake.AddSystem(&jcfake.System{ID: sysID, Pub: &testKey2().PublicKey})
	_, err := cycle(t, e.adapter(e.options()))
	if err == nil || !strings.Contains(err.Error(), "the key is wrong") {
		t.Errorf("wrong key: err = %v", err)
	}
	if l := e.fake.Inspect(sysID).Log; len(l) != 1 || !strings.Contains(l[0].Reason, "bad signature") {
		t.Errorf("fake log = %+v", l)
	}
	e2 := newEnv(t, false)
	e2.fake.AddSystem(&jcfake.System{ID: sysID, Pub: &testKey().PublicKey, Portal: true})
	if _, err := cycle(t, e2.adapter(e2.options())); err == nil || !strings.Contains(err.Error(), "User Portal") {
		t.Errorf("portal: err = %v", err)
	}
}

// TestHTTP2Server: the fake offers h2 over TLS; the adapter still speaks HTTP/1.1 and verifies
// the custom CA.
func TestHTTP2Server(t *testing.T) {
	e := newEnv(t, true)
	if _, err := cycle(t, e.adapter(e.options())); err != nil {
		t.Fatal(err)
	}
	v := e.fake.Inspect(sysID)
	if len(v.Log) < 5 {
		t.Fatalf("log = %+v", v.Log)
	}
	for _, l := range v.Log {
		if l.Proto != "HTTP/1.1" || l.Status >= 300 {
			t.Errorf("%s %s arrived as %s, status %d %s", l.Method, l.Target, l.Proto, l.Status, l.Reason)
		}
	}
}

// TestServerErrors: a 503 and a 429 fail the cycle cleanly, the next one succeeds.
func TestServerErrors(t *testing.T) {
	e := newEnv(t, false)
	a := e.adapter(e.options())
	for _, code := range []int{503, 429} {
		e.fake.FailNext(code)
		_, err := cycle(t, a)
		var se *jumpcloud.StatusError
		if !errors.As(err, &se) || se.Code != code {
			t.Errorf("err = %v; want HTTP %d", err, code)
		}
	}
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	// A failure of one step (a group that does not exist) fails the cycle; the rest is done.
	o := e.options()
	o.SystemGroups = append(o.SystemGroups, "dddddddddddddddddddddddd")
	o.Users = append(o.Users, jumpcloud.User{ID: "333333333333333333333333"})
	_, err := cycle(t, e.adapter(o))
	if err == nil || !strings.Contains(err.Error(), "join group dddddddddddddddddddddddd") || !strings.Contains(err.Error(), "bind user 333333333333333333333333") {
		t.Errorf("err = %v", err)
	}
}

// TestManyGroupsPaged: more than one page of memberof is read.
func TestManyGroupsPaged(t *testing.T) {
	e := newEnv(t, false)
	for i := range 150 {
		e.fake.JoinGroup(fmt.Sprintf("%024x", 0xe00000+i), sysID)
	}
	res, err := cycle(t, e.adapter(e.options()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(res.Details["groups"], ", ")); n != 152 {
		t.Errorf("groups seen = %d, want 152", n)
	}
}

// TestNotInstalled: no jcagent.conf is a clear error.
func TestNotInstalled(t *testing.T) {
	e := newEnv(t, false)
	o := e.options()
	o.JCAgentConf = e.dir + "/nope/jcagent.conf"
	_, err := cycle(t, e.adapter(o))
	if !errors.Is(err, jumpcloud.ErrNotInstalled) || !strings.Contains(err.Error(), "jcagent.log") {
		t.Errorf("err = %v", err)
	}
	if n := len(e.fake.Inspect(sysID).Log); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestDebugLogHasNoSecret runs a full check-in with every exchange logged at debug and greps
// the log for the signatures sent and the private key.
func TestDebugLogHasNoSecret(t *testing.T) {
	e := newEnv(t, false)
	e.logs = protocoltest.NewLogCapture(t)
	e.sigs = &authRecorder{}
	a := e.adapter(e.options())
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	e.sigs.mu.Lock()
	secrets := []string{base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(testKey()))[64:128]}
	for _, h := range e.sigs.seen {
		_, sig, _ := strings.Cut(h, `signature="`)
		secrets = append(secrets, strings.TrimSuffix(sig, `"`))
	}
	e.sigs.mu.Unlock()
	if len(secrets) < 3 {
		t.Fatalf("only %d signatures seen", len(secrets)-1)
	}
	e.logs.CheckNoSecrets(t, secrets...)
}
