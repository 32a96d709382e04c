package mig_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig"
	"github.com/omniagent/omniagent/protocols/mig/action"
	"github.com/omniagent/omniagent/protocols/mig/migfake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

// Investigators are generated once per test binary (RSA-2048 generation takes a while).
var (
	alice   *migfake.Investigator // in the agent's keyring and ACL
	mallory *migfake.Investigator // unknown to the agent
)

func TestMain(m *testing.M) {
	var err error
	if alice, err = migfake.NewInvestigator("alice", 2048); err == nil {
		mallory, err = migfake.NewInvestigator("mallory", 2048)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// brokerURL returns the test broker, skipping (or failing under CI) when none answers.
func brokerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("OMNIAGENT_TEST_AMQP_URL")
	if u == "" {
		u = "amqp://guest:guest@127.0.0.1:5672/"
	}
	if err := migfake.Probe(u); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no RabbitMQ broker at %s and CI is set: %v", mig.RedactURL(u), err)
		}
		t.Skipf("no RabbitMQ broker at %s (set OMNIAGENT_TEST_AMQP_URL to run the relay tests): %v", mig.RedactURL(u), err)
	}
	return u
}

type fixedInventory struct{ inv *inventory.Inventory }

func (f fixedInventory) Inventory(context.Context) (*inventory.Inventory, error) { return f.inv, nil }

func sampleInventory() *inventory.Inventory {
	return &inventory.Inventory{
		OS: inventory.OS{Family: "linux", Name: "Debian GNU/Linux", ID: "debian", Version: "12", Codename: "bookworm", FullName: "Debian GNU/Linux 12 (bookworm)"},
		Networks: []inventory.Network{
			{Name: "lo", Type: "loopback", IPv4: []inventory.IPAddr{{Address: "127.0.0.1", Prefix: 8}}},
			{Name: "eth0", Up: true,
				IPv4: []inventory.IPAddr{{Address: "192.0.2.2", Prefix: 24}},
				IPv6: []inventory.IPAddr{{Address: "fd00::2", Prefix: 64}, {Address: "::1", Prefix: 128}}},
		},
	}
}

// env is one agent wired to one fake.
type env struct {
	t     testing.TB
	fake  *migfake.Fake
	store *state.Store
	opts  *mig.Options
	dir   string // investigated tree
	inv   inventory.Provider
	now   func() time.Time         // agent clock; nil = time.Now
	logW  io.Writer                // agent log (WARN and up); nil = stderr
	logs  *protocoltest.LogCapture // set: the adapter logs (and its exchanges) go here
}

// newEnv builds the fake API and, with a broker URL, the fake scheduler; alice is trusted.
func newEnv(t testing.TB, broker string) *env {
	t.Helper()
	f := migfake.New(migfake.Options{})
	t.Cleanup(f.Close)
	if broker != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.Connect(ctx, broker); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	keys := filepath.Join(root, "agentkeys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "alice.asc"), alice.PublicKey, 0o600); err != nil {
		t.Fatal(err)
	}
	acl := filepath.Join(root, "acl.cfg")
	if err := os.WriteFile(acl, migfake.ACL(1, alice), 0o600); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(root, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"passwd": "root:x:0:0\n", "sub/passwd": "deep\n", "other": "x\n"} {
		if err := os.WriteFile(filepath.Join(tree, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := state.Open(filepath.Join(root, "state"))
	if err != nil {
		t.Fatal(err)
	}
	o := mig.NewOptions()
	o.Relay = broker
	if o.Relay == "" {
		o.Relay = "amqp://guest:guest@127.0.0.1:1/" // never dialled by HTTP-only tests
	}
	o.KeyringDir, o.ACLFile = keys, acl
	o.HeartbeatInterval = config.Duration(time.Minute)
	o.ModuleTimeout = config.Duration(30 * time.Second)
	o.Tags = map[string]string{"environment": "e2e", "operator": "IT"}
	return &env{t: t, fake: f, store: st, opts: o, dir: tree, inv: fixedInventory{sampleInventory()}}
}

// adapter builds the agent; cleanup forgets its queue on the broker.
func (e *env) adapter(oneshot bool) *mig.Adapter {
	e.t.Helper()
	srv := config.Server{Name: "mig1", Protocol: "mig", URL: e.fake.APIBase, Options: e.opts}
	var w io.Writer = os.Stderr
	if e.logW != nil {
		w = e.logW
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.logs != nil {
		log = e.logs.Logger()
	}
	a, err := mig.New(protocols.Deps{
		Server: srv, Logger: log, Inventory: e.inv, State: e.store.Server(srv.Name),
		Identity: identity.Identity{Hostname: "vm", AgentVersion: "1.4.0-test"},
		HTTP: func(h1 bool) (*http.Client, error) {
			return httpclient.New(httpclient.Options{Server: srv.Name, ForceHTTP1: h1, Timeout: 10 * time.Second, Proxy: "none", ExchangeLog: log})
		},
		Options: protocols.Options{Oneshot: oneshot},
		Now:     e.now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	a.SetTiming(300*time.Millisecond, 50*time.Millisecond)
	return a
}

// fileOp is a file-module operation searching the env's tree for ^passwd$.
func (e *env) fileOp() action.Operation {
	raw := fmt.Sprintf(`{"searches":{"s1":{"names":["^passwd$"],"options":{"macroal":false,"matchall":true,"matchlimit":1000,"maxdepth":0,"maxerrors":30,"mismatch":null},"paths":[%q]}}}`, e.dir)
	var p any
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		e.t.Fatal(err)
	}
	return action.Operation{Module: "file", Parameters: p}
}

// signed builds an action over ops signed by the investigators.
func signed(t testing.TB, name string, ops []action.Operation, by ...*migfake.Investigator) action.Action {
	t.Helper()
	a := migfake.NewAction(name, 10*time.Minute, ops...)
	if err := migfake.SignAction(&a, by...); err != nil {
		t.Fatal(err)
	}
	return a
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fileElements decodes a file result's elements for label s1.
func fileElements(t testing.TB, v migfake.Verdict, op int) []map[string]any {
	t.Helper()
	if op >= len(v.Command.Results) {
		t.Fatalf("no result %d in %s", op, v.Body)
	}
	els, ok := v.Command.Results[op].Elements.(map[string]any)
	if !ok {
		t.Fatalf("elements = %#v", v.Command.Results[op].Elements)
	}
	list, _ := els["s1"].([]any)
	var out []map[string]any
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// serve runs a's relay session until the test ends, and waits for it to return before the
// test's folders are removed (it may still be writing its spool).
func serve(t testing.TB, ctx context.Context, a *mig.Adapter) {
	t.Helper()
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Serve(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
}
