package glpi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
	"github.com/omniagent/omniagent/state"
)

// fixedInventory is an inventory.Provider returning one machine; tests may swap it.
type fixedInventory struct {
	mu   sync.Mutex
	inv  *inventory.Inventory
	hold chan struct{} // when set, collection waits for it to close
}

func (f *fixedInventory) Inventory(ctx context.Context) (*inventory.Inventory, error) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inv, nil
}

func (f *fixedInventory) set(inv *inventory.Inventory) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inv = inv
}

func sampleInventory() *inventory.Inventory {
	yes := true
	return &inventory.Inventory{
		Meta:   inventory.Meta{AgentVersion: "1.2.0", CollectedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Duration: 1.4},
		System: inventory.System{Manufacturer: "LENOVO", Model: "20XW", Serial: "PF2ABCDE", UUID: "4c4c4544-0042-3510-8052-b4c04f4b4e31", Hostname: "pc1", FQDN: "pc1.example.com", Domain: "example.com", ChassisType: "Laptop", BootTime: time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC), Timezone: "Europe/Paris", Virtual: inventory.Virtual{Kind: "physical"}},
		BIOS:   inventory.BIOS{Vendor: "LENOVO", Version: "N32ET75W", DateRaw: "03/15/2022", BootType: "uefi", SecureBoot: &yes},
		OS:     inventory.OS{Family: "linux", Name: "Debian GNU/Linux", FullName: "Debian GNU/Linux 12 (bookworm)", Version: "12", KernelName: "linux", KernelVersion: "6.1.0-18-amd64", Arch: "x86_64", HostID: "a8c07601", LastUser: "alice"},
		CPUs:   []inventory.CPU{{Vendor: "GenuineIntel", Model: "Intel(R) Core(TM) i5-1135G7", Cores: 4, Threads: 8, SpeedHz: 2400000000, MaxSpeedHz: 4200000000, Arch: "amd64", Family: "6", ModelNumber: "140", Stepping: "1"}},
		Memory: inventory.Memory{TotalBytes: 16 << 30, SwapBytes: 2 << 30, Modules: []inventory.MemoryModule{{Slot: "DIMM 0", SizeBytes: 8 << 30, Type: "DDR4", SpeedHz: 3200000000, Serial: "1234"}}},
		GPUs:   []inventory.GPU{{Name: "Iris Xe", Vendor: "Intel", PCISlot: "0000:00:02.0"}},
		Disks:  []inventory.Disk{{Name: "nvme0n1", Model: "Samsung 980", SizeBytes: 512 << 30, Type: "nvme", Interface: "nvme", Serial: "S1"}},
		Volumes: []inventory.Volume{
			{Device: "/dev/nvme0n1p2", Mountpoint: "/", Filesystem: "ext4", TotalBytes: 500 << 30, FreeBytes: 200 << 30, Serial: "1234-abcd"},
		},
		Networks: []inventory.Network{
			{Name: "lo", Type: "loopback", Up: true, IPv4: []inventory.IPAddr{{Address: "127.0.0.1", Prefix: 8}}},
			{Name: "eth0", MAC: "AA:BB:CC:DD:EE:FF", Up: true, Type: "ethernet", SpeedBps: 1e9, Gateway: "10.1.2.1", DNS: []string{"10.1.2.1"},
				IPv4: []inventory.IPAddr{{Address: "10.1.2.3", Prefix: 24}},
				IPv6: []inventory.IPAddr{{Address: "fe80::1", Prefix: 64}}},
			{Name: "tun0", Type: "tunnel", Up: true, IPv4: []inventory.IPAddr{{Address: "10.8.0.2", Prefix: 24}}},
		},
		Software:    []inventory.Software{{Name: "bash", Version: "5.2", Publisher: "GNU", Source: "dpkg", SizeBytes: 7000000, InstallDate: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}},
		Users:       []inventory.User{{Name: "alice", UID: "1000", GID: "1000", FullName: "Alice", Home: "/home/alice", Shell: "/bin/bash"}},
		Groups:      []inventory.Group{{Name: "sudo", GID: "27", Members: []string{"alice"}}},
		Sessions:    []inventory.UserSession{{User: "alice", Console: "tty1"}},
		Batteries:   []inventory.Battery{{Name: "BAT0", DesignCapacity: 57000, FullCapacity: 50000, DesignVoltage: 11500}},
		USB:         []inventory.USBDevice{{Name: "Receiver", VendorID: "046D", ProductID: "C52B", Serial: "X1"}},
		Monitors:    []inventory.Monitor{{Name: "DELL U2412M", Manufacturer: "Dell Inc.", Serial: "ABCD", WidthMM: 520, HeightMM: 320, Port: "card0-HDMI-A-1", EDIDBase64: "AP///////wA="}},
		Printers:    []inventory.Printer{{Name: "Office", Driver: "drv", Port: "ipp://printer/", Status: "idle", Shared: true}},
		Antivirus:   []inventory.Antivirus{{Name: "Defender", Company: "Microsoft", Version: "4.18", Enabled: true, UpToDate: true}},
		Processes:   []inventory.Process{{PID: 1, User: "root", Name: "systemd", Command: "/sbin/init", CPUPercent: 0.5, VirtBytes: 1 << 24, Started: time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC)}},
		Controllers: []inventory.Controller{{Name: "NVMe controller", Manufacturer: "Samsung", Type: "Non-Volatile memory controller", PCIID: "144D:A808", PCISlot: "0000:02:00.0", Driver: "nvme"}},
	}
}

type testEnv struct {
	t        testing.TB
	fake     *glpifake.Server
	stateDir string
	uid      string
	inv      *fixedInventory
	clock    *protocoltest.Clock
	noExec   bool
	quiet    bool
	logW     io.Writer                // when set, the adapter logs (text) here instead of the test log
	logs     *protocoltest.LogCapture // set: the adapter logs (and its exchanges) go here
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	f, err := glpifake.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return &testEnv{t: t, fake: f, stateDir: filepath.Join(t.TempDir(), "state"), inv: &fixedInventory{inv: sampleInventory()}, clock: protocoltest.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))}
}

// adapter builds a fresh adapter over the same state directory, as a restarted agent would.
func (e *testEnv) adapter(mut func(*config.Server, *glpi.Options)) *glpi.Adapter {
	e.t.Helper()
	a, err := e.build(mut, protocols.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *testEnv) build(mut func(*config.Server, *glpi.Options), po protocols.Options) (*glpi.Adapter, error) {
	a, err := e.buildWith(mut, po, nil)
	if err != nil {
		return nil, err
	}
	return a.(*glpi.Adapter), nil
}

// buildWith builds the adapter as the daemon does, with its run-now hook.
func (e *testEnv) buildWith(mut func(*config.Server, *glpi.Options), po protocols.Options, runNow func(protocols.Request) error) (protocols.Adapter, error) {
	opts := glpi.NewOptions()
	opts.Tag = "site-a"
	srv := config.Server{Name: "glpi-test", Protocol: "glpi", URL: e.fake.URL + "/front/inventory.php"}
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
	if e.logW != nil {
		log = slog.New(slog.NewTextHandler(e.logW, nil))
	}
	if e.logs != nil {
		log = e.logs.Logger()
	}
	runner := jobs.New(jobs.Options{Server: srv.Name, SpoolDir: spool, Policy: jobs.Policy{AllowExec: !e.noExec}, Logger: log, Timeout: time.Minute, MaxOutput: 1 << 20, MaxDownload: 64 << 20})
	a, err := glpi.New(protocols.Deps{
		Server:    srv,
		Logger:    log,
		Identity:  identity.Identity{Hostname: "pc1", MachineUID: firstOf(e.uid, "4c4c4544-0042-3510-8052-b4c04f4b4e31"), FQDN: "pc1.example.com", AgentVersion: "1.2.0"},
		Inventory: e.inv,
		Jobs:      runner,
		State:     h,
		HTTP: func(h1 bool) (*http.Client, error) {
			return httpclient.New(httpclient.Options{Server: srv.Name, ForceHTTP1: h1, Timeout: 10 * time.Second, Proxy: "none", ExchangeLog: log})
		},
		Options: po,
		Now:     e.clock.Now,
		RunNow:  runNow,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// buildWithUID builds an adapter on a machine with another machine UID (a clone).
func (e *testEnv) buildWithUID(uid string) (*glpi.Adapter, error) {
	old := e.uid
	e.uid = uid
	defer func() { e.uid = old }()
	return e.build(nil, protocols.Options{})
}
