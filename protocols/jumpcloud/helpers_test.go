package jumpcloud_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

const (
	sysID   = "0123456789abcdef01234567"
	otherID = "76543210fedcba9876543210"
	groupA  = "aaaaaaaaaaaaaaaaaaaaaaaa"
	groupB  = "bbbbbbbbbbbbbbbbbbbbbbbb"
	groupX  = "cccccccccccccccccccccccc" // joined by an admin, not by us
	userU   = "111111111111111111111111"
	userV   = "222222222222222222222222"
)

// testKey is generated once: 2048-bit generation is slow under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// writeKey writes k as PKCS#1 (or PKCS#8) PEM, mode 0600.
func writeKey(t testing.TB, dir string, k *rsa.PrivateKey, pkcs8 bool) string {
	t.Helper()
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	p := filepath.Join(dir, "client.key")
	if pkcs8 {
		p = filepath.Join(dir, "client8.key")
	}
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type fixedInventory struct {
	mu  sync.Mutex
	inv inventory.Inventory
}

func (f *fixedInventory) Inventory(context.Context) (*inventory.Inventory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.inv
	return &c, nil
}

func sampleInventory() inventory.Inventory {
	return inventory.Inventory{
		System: inventory.System{Manufacturer: "Dell Inc.", Model: "Latitude 7440", Serial: "PF2ABCDE", Hostname: "pc1"},
		OS:     inventory.OS{Name: "Ubuntu", Version: "24.04"},
		CPUs:   []inventory.CPU{{Model: "Intel Core i7-1365U"}},
		Memory: inventory.Memory{TotalBytes: 16 << 30},
	}
}

type testEnv struct {
	t      testing.TB
	fake   *jcfake.Server
	clock  *protocoltest.Clock // the agent's clock
	fclock *protocoltest.Clock // the fake server's clock
	inv    *fixedInventory
	dir    string
	conf   string
	key    string
	state  *state.Handle
	caFile string
	logs   *protocoltest.LogCapture // set: debug log captured, Authorization headers kept in sigs
	sigs   *authRecorder
}

// authRecorder keeps every Authorization header sent, to check none reaches the log.
type authRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *authRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if a := req.Header.Get("Authorization"); a != "" {
		r.seen = append(r.seen, a)
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// newEnv starts a fake with system sysID enrolled, groups A, B, X, users U, V.
func newEnv(t testing.TB, tlsH2 bool) *testEnv {
	t.Helper()
	fakeClock := protocoltest.NewClock(time.Date(2026, 11, 5, 3, 4, 5, 0, time.UTC))
	f := jcfake.New(jcfake.Options{Now: fakeClock.Now})
	if tlsH2 {
		f.StartTLS(true)
	} else {
		f.Start()
	}
	t.Cleanup(f.Close)
	k := testKey()
	f.AddSystem(&jcfake.System{ID: sysID, Pub: &k.PublicKey, Hostname: "pc1", DisplayName: "pc1",
		Attributes: []jcfake.Attribute{{Name: "admu", Value: "InProgress"}}})
	f.AddGroup(groupA, groupB, groupX)
	f.AddUser(userU, userV)
	dir := t.TempDir()
	e := &testEnv{t: t, fake: f, fclock: fakeClock, clock: protocoltest.NewClock(fakeClock.Now()), inv: &fixedInventory{inv: sampleInventory()}, dir: dir}
	e.key = writeKey(t, dir, k, false)
	e.conf = filepath.Join(dir, "jcagent.conf")
	e.writeConf(sysID, "agent.eu.jumpcloud.com")
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	e.state = st.Server("jc")
	if tlsH2 {
		e.caFile = filepath.Join(dir, "ca.pem")
		der := f.HTTP.Certificate().Raw
		if err := os.WriteFile(e.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *testEnv) writeConf(id, host string) {
	e.t.Helper()
	c := fmt.Sprintf(`{"agentInstallDir":"/opt/jc/","agentServerHost":%q,"agentServerPort":443,"caCrt":"/opt/jc/ca.crt","clientCrt":"/opt/jc/client.crt","clientKey":%q,"heartbeatInterval":60000,"systemKey":%q,"tls":true}`, host, e.key, id)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) options() *jumpcloud.Options {
	o := jumpcloud.NewOptions()
	o.JCAgentConf = e.conf
	o.DisplayName = "{{.Hostname}}-{{.Serial}}"
	o.Description = "summary"
	o.SystemGroups = []string{groupA, groupB}
	o.Users = []jumpcloud.User{{ID: userU, Sudo: true, SudoWithoutPassword: true}, {ID: userV}}
	return o
}

func (e *testEnv) adapter(o *jumpcloud.Options) *jumpcloud.Adapter {
	e.t.Helper()
	if err := o.Validate(); err != nil {
		e.t.Fatal(err)
	}
	log := protocoltest.Logger(e.t)
	if e.logs != nil {
		log = e.logs.Logger()
	}
	a, err := jumpcloud.New(protocols.Deps{
		Server:    config.Server{Name: "jc", Protocol: "jumpcloud", URL: e.fake.URL(), Options: o},
		Logger:    log,
		Identity:  identity.Identity{Hostname: "pc1", FQDN: "pc1.example.org", AgentVersion: "1.2.3"},
		Inventory: e.inv,
		State:     e.state,
		HTTP: func(force bool) (*http.Client, error) {
			c, err := httpclient.New(httpclient.Options{Server: "jc", CAFile: e.caFile, ForceHTTP1: force, Proxy: "none", ExchangeLog: log})
			if err == nil && e.sigs != nil {
				e.sigs.base = c.Transport
				c.Transport = e.sigs
			}
			return c, err
		},
		Now: e.clock.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func cycle(t testing.TB, a *jumpcloud.Adapter) (protocols.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Cycle(ctx)
}

var testKey2 = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})
