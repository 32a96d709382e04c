package oco_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

const regKey = "reg-key-for-tests"

// provider is the inventory the adapter gets: e.prov when a test set one, else e.inv.
func (e *testEnv) provider() inventory.Provider {
	if e.prov != nil {
		return e.prov
	}
	return fixedInventory{e.inv}
}

// fixedInventory is an inventory.Provider returning one recorded machine.
type fixedInventory struct{ inv *inventory.Inventory }

func (f fixedInventory) Inventory(context.Context) (*inventory.Inventory, error) { return f.inv, nil }

func sampleInventory() *inventory.Inventory {
	yes := true
	return &inventory.Inventory{
		Meta:   inventory.Meta{AgentVersion: "0.0.0-dev", CollectedAt: time.Now().UTC()},
		System: inventory.System{Manufacturer: "LENOVO", Model: "20XW", Serial: "PF2ABCDE", Hostname: "pc1", FQDN: "pc1.example.com", Uptime: 3600},
		BIOS:   inventory.BIOS{Version: "N32ET75W", BootType: "uefi", SecureBoot: &yes},
		OS:     inventory.OS{Family: "linux", Name: "Debian GNU/Linux", Version: "12", KernelVersion: "6.1.0-18-amd64", Arch: "x86_64"},
		CPUs:   []inventory.CPU{{Model: "Intel(R) Core(TM) i5-1135G7"}},
		Memory: inventory.Memory{TotalBytes: 16 << 30},
		GPUs:   []inventory.GPU{{Name: "Iris Xe"}},
		Volumes: []inventory.Volume{
			{Device: "/dev/nvme0n1p2", Mountpoint: "/", Filesystem: "ext4", TotalBytes: 500 << 30, FreeBytes: 200 << 30, Serial: "1234-abcd"},
			{Device: "tmpfs", Mountpoint: "/run", Filesystem: "tmpfs"},
		},
		Networks: []inventory.Network{
			{Name: "lo", Type: "loopback", IPv4: []inventory.IPAddr{{Address: "127.0.0.1", Prefix: 8}}},
			{Name: "eth0", MAC: "AA:BB:CC:DD:EE:FF", Up: true,
				IPv4: []inventory.IPAddr{{Address: "10.1.2.3", Prefix: 24, Netmask: "255.255.255.0", Broadcast: "10.1.2.255"}},
				IPv6: []inventory.IPAddr{{Address: "fe80::1", Prefix: 64}, {Address: "2001:db8::5", Prefix: 64}}},
			{Name: "wlan0", MAC: "11:22:33:44:55:66"},
		},
		Monitors:  []inventory.Monitor{{Name: "DELL U2412M", Manufacturer: "Dell Inc.", Year: 2013, WidthPx: 1920, HeightPx: 1200, WidthMM: 520, HeightMM: 320, Serial: "ABCD"}},
		Printers:  []inventory.Printer{{Name: "Office", Driver: "drv", Port: "ipp://printer/", Status: "idle"}},
		Software:  []inventory.Software{{Name: "bash", Version: "5.2", Publisher: "GNU", Source: "dpkg"}, {Name: "no-version", Source: "dpkg"}},
		Users:     []inventory.User{{Name: "alice", UID: "1000", GID: "1000", FullName: "Alice", Home: "/home/alice", Shell: "/bin/bash"}},
		Logins:    []inventory.Login{{User: "alice", Console: "tty1", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		Batteries: []inventory.Battery{{Charge: 80, Status: "Discharging"}},
		USB:       []inventory.USBDevice{{Name: "Receiver", VendorID: "046d", ProductID: "c52b", Serial: "X1"}},
	}
}

// recPower records power requests instead of rebooting the test machine.
type recPower struct {
	mu   sync.Mutex
	reqs []jobs.PowerRequest
}

func (p *recPower) Do(_ context.Context, r jobs.PowerRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, r)
	return nil
}

func (p *recPower) list() []jobs.PowerRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]jobs.PowerRequest(nil), p.reqs...)
}

type testEnv struct {
	t        testing.TB
	quiet    bool // benchmarks: no log
	noExec   bool // policy: allow_exec = false
	fake     *ocofake.Server
	stateDir string
	caFile   string
	power    *recPower
	inv      *inventory.Inventory
	prov     inventory.Provider // replaces fixedInventory{inv} when set
	hostname string
	now      func() time.Time
	clock    *protocoltest.Clock      // the fake server's clock
	logs     *protocoltest.LogCapture // set: the adapter logs (and its exchanges) go here
}

func newEnv(t testing.TB, fo ocofake.Options) *testEnv {
	t.Helper()
	if fo.RegistrationKey == "" {
		fo.RegistrationKey = regKey
	}
	clk := &protocoltest.Clock{}
	fo.Now = clk.Now
	f := ocofake.New(fo)
	if err := f.StartTLS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := f.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, fake: f, stateDir: filepath.Join(dir, "state"), caFile: ca, power: &recPower{}, inv: sampleInventory(), hostname: "pc1", clock: clk}
}

// adapter builds a fresh adapter over the same state directory, as a restarted agent would.
func (e *testEnv) adapter(mut func(*config.Server, *oco.Options)) *oco.Adapter {
	e.t.Helper()
	a, err := e.build(mut)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *testEnv) build(mut func(*config.Server, *oco.Options)) (*oco.Adapter, error) {
	opts := oco.NewOptions()
	opts.RegistrationKey = regKey
	opts.LiveOutput = config.Duration(time.Second)
	srv := config.Server{Name: "oco-test", Protocol: "oco", URL: e.fake.URL(), CAFile: e.caFile}
	if mut != nil {
		mut(&srv, opts)
	}
	srv.Options = opts
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	st, err := state.Open(e.stateDir)
	if err != nil {
		return nil, err
	}
	h := st.Server(srv.Name)
	spool, err := h.SpoolDir()
	if err != nil {
		return nil, err
	}
	log := protocoltest.Logger(e.t)
	if e.quiet {
		log = slog.New(slog.DiscardHandler)
	}
	if e.logs != nil {
		log = e.logs.Logger()
	}
	runner := jobs.New(jobs.Options{Server: srv.Name, SpoolDir: spool, Policy: jobs.Policy{AllowExec: !e.noExec, AllowPower: true}, Logger: log, Power: e.power, Timeout: time.Minute, MaxOutput: 1 << 20, MaxDownload: 64 << 20})
	now := e.now
	if now == nil {
		now = time.Now
	}
	return oco.New(protocols.Deps{
		Server:    srv,
		Logger:    log,
		Identity:  identity.Identity{Hostname: e.hostname, MachineUID: "4c4c4544-0042-3510-8052-b4c04f4b4e31", FQDN: e.hostname + ".example.com", AgentVersion: "0.0.0-dev"},
		Inventory: e.provider(),
		Jobs:      runner,
		State:     h,
		HTTP: func(h1 bool) (*http.Client, error) {
			return httpclient.New(httpclient.Options{Server: srv.Name, CAFile: srv.CAFile, ForceHTTP1: h1, Timeout: 10 * time.Second, Proxy: "none", ExchangeLog: log})
		},
		Now: now,
	})
}

// zipOf builds a ZIP with the given files, stored uncompressed so tests can corrupt bytes.
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readState(t testing.TB, dir string) map[string]any {
	t.Helper()
	st, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := st.Server("oco-test").Load(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func identityFor(h string) identity.Identity {
	return identity.Identity{Hostname: h, FQDN: h + ".example.com", MachineUID: "4c4c4544-0042-3510-8052-b4c04f4b4e31"}
}

func recordedEvents(queries *[]string) func(ctx context.Context, q eventlog.Query) ([]eventlog.Event, error) {
	return func(_ context.Context, q eventlog.Query) ([]eventlog.Event, error) {
		*queries = append(*queries, q.Log+"|"+q.Since.Format("2006-01-02 15:04:05"))
		if q.Log != "journalctl" {
			return nil, fmt.Errorf("event log %q: %w", q.Log, eventlog.ErrUnsupportedLog)
		}
		lvl := 3
		return []eventlog.Event{{Log: "ssh.service", Provider: "sshd", Level: &lvl, Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Data: map[string]string{"message": "error: boom"}}}, nil
	}
}

func newTestLogger(t testing.TB) *slog.Logger {
	return protocoltest.Logger(t)
}
