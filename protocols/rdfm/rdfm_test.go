package rdfm_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/protocols/rdfm"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
	"github.com/omniagent/omniagent/state"
)

// testKey is generated once per test binary: 4096-bit generation takes a second or more.
var testKey *rsa.PrivateKey

func TestMain(m *testing.M) {
	k, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate test key:", err)
		os.Exit(1)
	}
	testKey = k
	os.Exit(m.Run())
}

type fixedInventory struct{ inv *inventory.Inventory }

func (f fixedInventory) Inventory(context.Context) (*inventory.Inventory, error) { return f.inv, nil }

func sampleInventory() *inventory.Inventory {
	return &inventory.Inventory{Networks: []inventory.Network{
		{Name: "lo", Type: "loopback"},
		{Name: "wlan0", MAC: "11:22:33:44:55:66"},
		{Name: "eth0", MAC: "AA:BB:CC:DD:EE:01", Up: true},
		{Name: "docker0", MAC: "02:42:00:00:00:01", Virtual: true},
	}}
}

type env struct {
	t     testing.TB
	fake  *rdfmfake.Server
	store *state.Store
	opts  *rdfm.Options
	exec  bool
	shell bool
	gens  int
	inv   *inventory.Inventory     // nil: sampleInventory()
	prov  inventory.Provider       // nil: fixedInventory{inv}
	url   string                   // "": the fake's URL
	proxy string                   // "": none
	logw  io.Writer                // nil: stderr at WARN
	now   func() time.Time         // agent clock; nil: time.Now
	logs  *protocoltest.LogCapture // set: the adapter logs (and its exchanges) go here
}

func newEnv(t *testing.T) *env { return newEnvTB(t) }

func newEnvTB(t testing.TB) *env {
	t.Helper()
	f := rdfmfake.New()
	t.Cleanup(f.Close)
	st, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := rdfm.NewOptions()
	o.SoftwareVersion = "1.0"
	o.DeviceType = "test-dev"
	o.Tags = []string{"lab"}
	return &env{t: t, fake: f, store: st, opts: o}
}

func (e *env) adapter(oneshot bool) *rdfm.Adapter {
	e.t.Helper()
	url, proxy := e.url, e.proxy
	if url == "" {
		url = e.fake.URL
	}
	if proxy == "" {
		proxy = "none"
	}
	srv := config.Server{Name: "rdfm1", Protocol: "rdfm", URL: url, Proxy: proxy, Options: e.opts}
	h := e.store.Server(srv.Name)
	spool, err := h.SpoolDir()
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.logw != nil {
		log = slog.New(slog.NewTextHandler(e.logw, nil))
	}
	if e.logs != nil {
		log = e.logs.Logger()
	}
	runner := jobs.New(jobs.Options{Server: srv.Name, SpoolDir: spool, Policy: jobs.Policy{AllowExec: e.exec, AllowShell: e.shell}, Logger: log, Timeout: time.Minute})
	inv := e.inv
	if inv == nil {
		inv = sampleInventory()
	}
	var prov inventory.Provider = fixedInventory{inv}
	if e.prov != nil {
		prov = e.prov
	}
	a, err := rdfm.New(protocols.Deps{
		Server: srv, Logger: log, Inventory: prov, Jobs: runner, State: h,
		HTTP: func(h1 bool) (*http.Client, error) {
			return httpclient.New(httpclient.Options{Server: srv.Name, ForceHTTP1: h1, Timeout: 10 * time.Second, Proxy: srv.Proxy, ExchangeLog: log})
		},
		Options: protocols.Options{Oneshot: oneshot},
		Now:     e.now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	a.SetKeyGen(func() (*rsa.PrivateKey, error) { e.gens++; return testKey, nil })
	return a
}

// serving accepts the device and runs its management socket for the rest of the test. It
// returns the adapter, the test's context and the capabilities the device reported.
func (e *env) serving() (*rdfm.Adapter, context.Context, map[string]any) {
	e.t.Helper()
	ctx := e.t.Context()
	a := e.adapter(false)
	e.register()
	go a.Serve(ctx)
	caps, _ := next(e.t, e.fake, "capability_report")["capabilities"].(map[string]any)
	return a, ctx, caps
}

// register makes the device's pending registration (with an adapter of its own, so the
// test's adapter has not yet been told "not accepted": it would wait a retry interval before
// asking again) and accepts it.
func (e *env) register() {
	e.t.Helper()
	e.adapter(false).Cycle(context.Background())
	e.accept()
}

func (e *env) accept() {
	e.t.Helper()
	if !e.fake.Accept("aa:bb:cc:dd:ee:01") {
		e.t.Fatalf("no pending registration for aa:bb:cc:dd:ee:01: %v", e.fake.Pending())
	}
}

// countAuth is the number of auth requests the fake received.
func countAuth(f *rdfmfake.Server) int {
	n := 0
	for _, l := range f.LogLines() {
		if strings.HasPrefix(l, "POST /api/v1/auth/device ") {
			n++
		}
	}
	return n
}

func TestPendingThenAccepted(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	clock := time.Now()
	e.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	a := e.adapter(false)
	ctx := context.Background()
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatalf("pending is not an error in the daemon: %v", err)
	}
	if res.Next != 60*time.Second || !strings.Contains(res.Details["registration"], "waiting for acceptance") {
		t.Fatalf("pending result = %+v", res)
	}
	// --oneshot reports pending as a failure.
	if _, err := e.adapter(true).Cycle(ctx); !errors.Is(err, rdfm.ErrPending) {
		t.Fatalf("oneshot pending: err = %v, want ErrPending", err)
	}
	pend := e.fake.Pending()
	if len(pend) != 1 || pend[0][0] != "aa:bb:cc:dd:ee:01" || !strings.HasPrefix(pend[0][1], "-----BEGIN PUBLIC KEY-----\n") || !strings.HasSuffix(pend[0][1], "-----END PUBLIC KEY-----\n") {
		t.Fatalf("pending = %q", pend)
	}
	e.accept()
	// Within the retry interval nobody asks again, not even the socket: one auth request per
	// interval while waiting (the server re-records the pending registration each time).
	auths := countAuth(e.fake)
	if res, err := a.Cycle(ctx); err != nil || res.Summary != "waiting for acceptance" {
		t.Fatalf("cycle within the retry interval = %+v, %v", res, err)
	}
	if wait, err := a.ServeOnce(ctx); !errors.Is(err, rdfm.ErrPending) || wait != 60*time.Second {
		t.Fatalf("socket within the retry interval: wait %s, %v", wait, err)
	}
	if n := countAuth(e.fake) - auths; n != 0 {
		t.Fatalf("%d auth requests within the retry interval, want none", n)
	}
	advance(61 * time.Second)
	res, err = a.Cycle(ctx)
	if err != nil || res.Summary != "no update" || res.Details["registration"] != "accepted" {
		t.Fatalf("accepted cycle = %+v, %v", res, err)
	}
	md := e.fake.Metadata("aa:bb:cc:dd:ee:01")
	if md["rdfm.software.version"] != "1.0" || md["rdfm.hardware.devtype"] != "test-dev" || fmt.Sprint(md["rdfm.software.tags"]) != "[lab]" {
		t.Fatalf("metadata = %v", md)
	}
	// A restarted agent reuses the same key (PEM byte-identical) and MAC: still accepted.
	e.fake.SetPackage(nil, false)
	if res, err := e.adapter(false).Cycle(ctx); err != nil || res.Summary != "no update" {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
	if e.gens != 1 {
		t.Fatalf("key generated %d times, want once", e.gens)
	}
	fi, err := os.Stat(e.store.Server("rdfm1").Path())
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("state file: %v %v", fi, err)
	}
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t)
	e.fake.TokenLifetime = 2 * time.Second
	a := e.adapter(false)
	ctx := context.Background()
	e.register()
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatalf("after 2 s token expiry: %v", err)
	}

	// A token the agent still thinks fresh but the server rejects (server clock ahead): 401 → re-auth → retry.
	e.fake.TokenLifetime = 300 * time.Second
	b := e.adapter(false)
	if _, err := b.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.Now = func() time.Time { return time.Now().Add(400 * time.Second) }
	if _, err := b.Cycle(ctx); err != nil {
		t.Fatalf("server-side expiry mid-run: %v", err)
	}
	log := strings.Join(e.fake.Log, "\n")
	if !strings.Contains(log, "POST /api/v1/update/check 401\nPOST /api/v1/auth/device 200\nPOST /api/v1/update/check 204") {
		t.Fatalf("expected 401 → re-auth → retry, log:\n%s", log)
	}
}

func TestUpdate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("install command uses /bin/sh")
	}
	pkgData := bytes.Repeat([]byte("rdfm-package-"), 10000)
	var out string
	var install []string
	fresh := func(t *testing.T) {
		out = filepath.Join(t.TempDir(), "installed")
		install = []string{"/bin/sh", "-c", `cat "$1" > "$2" && echo "installing $3" && echo rdfm.software.version=2.0`, "sh", "{file}", out, "{id}"}
	}

	t.Run("good hash", func(t *testing.T) {
		fresh(t)
		e := newEnv(t)
		e.exec = true
		e.opts.InstallCommand = install
		a := e.adapter(false)
		ctx := context.Background()
		e.register()
		e.fake.SetPackage(&rdfmfake.Package{ID: 7, Data: pkgData, Version: "2.0"}, false)
		res, err := a.Cycle(ctx)
		if err != nil || res.Details["version"] != "2.0" {
			t.Fatalf("install cycle = %+v, %v", res, err)
		}
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, pkgData) {
			t.Fatalf("installed bytes differ (%d vs %d): %v", len(got), len(pkgData), err)
		}
		res, err = a.Cycle(ctx)
		if err != nil || res.Summary != "no update" {
			t.Fatalf("after install = %+v, %v", res, err)
		}
		if v := e.fake.Checks[len(e.fake.Checks)-1]["rdfm.software.version"]; v != "2.0" {
			t.Fatalf("version sent after install = %v", v)
		}
		// The new version survives a restart.
		if res, err := e.adapter(false).Cycle(ctx); err != nil || res.Details["version"] != "2.0" {
			t.Fatalf("after restart = %+v, %v", res, err)
		}
	})

	t.Run("bad hash", func(t *testing.T) {
		fresh(t)
		e := newEnv(t)
		e.exec = true
		e.opts.InstallCommand = install
		a := e.adapter(false)
		ctx := context.Background()
		e.register()
		e.fake.SetPackage(&rdfmfake.Package{ID: 8, Data: pkgData, Version: "2.0"}, true)
		if _, err := a.Cycle(ctx); err == nil || !strings.Contains(err.Error(), "download") {
			t.Fatalf("corrupt package: err = %v", err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("install command ran on a corrupt package")
		}
		res, err := a.Cycle(ctx)
		if err != nil || !strings.Contains(res.Details["update"], "skipped") {
			t.Fatalf("cool-down: %+v, %v", res, err)
		}
	})

	t.Run("exec refused by policy", func(t *testing.T) {
		fresh(t)
		e := newEnv(t)
		e.opts.InstallCommand = install
		a := e.adapter(false)
		ctx := context.Background()
		e.register()
		e.fake.SetPackage(&rdfmfake.Package{ID: 9, Data: pkgData, Version: "2.0"}, false)
		if _, err := a.Cycle(ctx); !errors.Is(err, jobs.ErrRefused) {
			t.Fatalf("allow_exec off: err = %v, want ErrRefused", err)
		}
	})
}

func TestSignatureCoversExactBytes(t *testing.T) {
	body := []byte(`{"metadata":{"rdfm.hardware.macaddr":"aa:bb:cc:dd:ee:01"},"public_key":"x","timestamp":1}`)
	s1, err := rdfm.SignBody(testKey, body)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := rdfm.SignBody(testKey, body)
	if s1 != s2 {
		t.Fatal("PKCS#1 v1.5 signatures must be deterministic")
	}
	s3, _ := rdfm.SignBody(testKey, bytes.ReplaceAll(body, []byte(":"), []byte(": ")))
	if s3 == s1 {
		t.Fatal("re-serialised body gave the same signature")
	}
	p1, _ := rdfm.PublicPEM(&testKey.PublicKey)
	p2, _ := rdfm.PublicPEM(&testKey.PublicKey)
	if p1 != p2 || !strings.HasSuffix(p1, "\n") {
		t.Fatal("public PEM not stable")
	}
	for _, l := range strings.Split(strings.TrimSpace(p1), "\n") {
		if len(l) > 64 {
			t.Fatalf("PEM line longer than 64: %q", l)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*rdfm.Options)
		ok   bool
	}{
		{"defaults", func(*rdfm.Options) {}, true},
		{"mac ok", func(o *rdfm.Options) { o.DeviceID = "aa:bb:cc:dd:ee:01" }, true},
		{"mac upper", func(o *rdfm.Options) { o.DeviceID = "AA:BB:CC:DD:EE:01" }, false},
		{"retry too short", func(o *rdfm.Options) { o.RetryInterval = config.Duration(time.Millisecond) }, false},
		{"empty program", func(o *rdfm.Options) { o.InstallCommand = []string{" "} }, false},
		{"empty metadata key", func(o *rdfm.Options) { o.Metadata = map[string]string{"": "x"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := rdfm.NewOptions()
			tt.mod(o)
			if err := o.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// A machine without a usable MAC fails every cycle until device_id is set, but the 4096-bit
// key is generated once and kept, not regenerated at each retry.
func TestKeyKeptWhenNoMAC(t *testing.T) {
	e := newEnv(t)
	e.inv = &inventory.Inventory{Networks: []inventory.Network{{Name: "lo", Type: "loopback"}}}
	a := e.adapter(false)
	for range 3 {
		if _, err := a.Cycle(t.Context()); err == nil || !strings.Contains(err.Error(), "set device_id") {
			t.Fatalf("Cycle() error = %v, want one asking for device_id", err)
		}
	}
	if e.gens != 1 {
		t.Fatalf("key generated %d times, want once", e.gens)
	}
	e.opts.DeviceID = "aa:bb:cc:dd:ee:01"
	if _, err := e.adapter(false).Cycle(t.Context()); err != nil {
		t.Fatalf("cycle with device_id: %v", err)
	}
	if e.gens != 1 {
		t.Fatalf("key regenerated after restart (%d generations)", e.gens)
	}
}

// The device MAC comes from the network category alone: registering never costs a full
// collection.
func TestMACFromNetworkAlone(t *testing.T) {
	e := newEnv(t)
	e.prov = protocoltest.PartialInventory{T: t, Inv: &inventory.Inventory{Networks: sampleInventory().Networks}, Want: []string{inventory.CategoryNetwork}}
	e.register() // fails the test unless the registration carried the sample's MAC
	if _, err := e.adapter(false).Cycle(t.Context()); err != nil {
		t.Fatalf("cycle after acceptance: %v", err)
	}
}

// TestDebugLogHasNoSecret runs registration, acceptance and an update check with every
// exchange logged at debug, and greps the log for the bearer token and the device key.
func TestDebugLogHasNoSecret(t *testing.T) {
	e := newEnv(t)
	e.logs = protocoltest.NewLogCapture(t)
	ctx := context.Background()
	e.register() // registration and acceptance (an earlier adapter, as after a restart)
	a := e.adapter(false)
	if res, err := a.Cycle(ctx); err != nil || res.Summary != "no update" {
		t.Fatalf("accepted cycle = %+v, %v", res, err)
	}
	// Every token the fake issues starts with this JWT header; the key's PEM body is secret.
	jwtHead := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	der := x509.MarshalPKCS1PrivateKey(testKey)
	e.logs.CheckNoSecrets(t, jwtHead, base64.StdEncoding.EncodeToString(der)[64:128])
}
