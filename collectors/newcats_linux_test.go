package collectors

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// A fake host: Docker's and Podman's state folders, libvirt's run and etc folders, an LXC
// container, a machined registration and a VirtualBox registry, shaped like the real files.
func TestVirtualMachinesFromStateFolders(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"var/lib/docker/containers/4f66ad9a0b2e/config.v2.json": `{"ID":"4f66ad9a0b2e","Name":"/web","Config":{"Image":"nginx:1.25","Hostname":"4f66ad9a0b2e"},` +
			`"State":{"Running":true,"Paused":false,"Restarting":false,"Dead":false,"Pid":1234},"NetworkSettings":{"Networks":{"bridge":{"MacAddress":"02:42:ac:11:00:02"}}}}`,
		"var/lib/docker/containers/4f66ad9a0b2e/hostconfig.json": `{"Memory":536870912,"NanoCpus":1500000000}`,
		"var/lib/docker/containers/9a1b/config.v2.json":          `{"ID":"9a1b","Name":"/batch","Config":{"Image":"alpine"},"State":{"Running":false}}`,
		"var/lib/docker/containers/broken/config.v2.json":        `{not json`,
		"var/lib/containers/storage/overlay-containers/containers.json": `[{"id":"c0ffee","names":["db"],"image":"8a1e",` +
			`"metadata":"{\"image-name\":\"docker.io/library/postgres:16\",\"name\":\"db\"}"}]`,
		"run/containers/storage/overlay-containers/c0ffee/userdata/pidfile": "1",
		"proc/1/stat": "",
		"etc/libvirt/qemu/win11.xml": `<domain type='kvm'><name>win11</name><uuid>c37f7ce8-af95-4676-b454-0959f2c5e162</uuid>` +
			`<memory unit='KiB'>8388608</memory><vcpu placement='static'>4</vcpu><devices><interface type='network'><mac address='52:54:00:aa:bb:cc'/></interface></devices></domain>`,
		"etc/libvirt/qemu/debian.xml": `<domain type='kvm'><name>debian</name><uuid>0d3c7a2e-1111-2222-3333-444455556666</uuid><memory unit='MiB'>1024</memory><vcpu>1</vcpu></domain>`,
		"run/libvirt/qemu/debian.xml": `<domstatus state='running' reason='booted' pid='4242'><domain type='kvm' id='1'><name>debian</name>` +
			`<uuid>0d3c7a2e-1111-2222-3333-444455556666</uuid><memory unit='KiB'>1048576</memory><vcpu>1</vcpu></domain></domstatus>`,
		"var/lib/lxc/web01/config":                     "lxc.include = /usr/share/lxc/config/common.conf\nlxc.uts.name = web01\nlxc.net.0.hwaddr = 00:16:3e:12:34:56\nlxc.cgroup2.memory.max = 1G\nlxc.cgroup2.cpuset.cpus = 0-1\n",
		"sys/fs/cgroup/lxc.payload.web01/cgroup.procs": "",
		"run/systemd/machines/build":                   "# This is private data. Do not parse.\nNAME=build\nSCOPE=machine-build.scope\nSERVICE=systemd-nspawn\nROOT=/var/lib/machines/build\nID=8f0b9c7a2f6e4d1c9b3a5e7d1f2c4b6a\nCLASS=container\n",
		"var/lib/machines/build/etc/os-release":        "",
		"var/lib/machines/old.raw":                     "",
		"home/bob/.config/VirtualBox/VirtualBox.xml": `<?xml version="1.0"?><VirtualBox xmlns="http://www.virtualbox.org/" version="1.12-linux"><Global><MachineRegistry>` +
			`<MachineEntry uuid="{a1b2c3d4-0000-1111-2222-333344445555}" src="/home/bob/VirtualBox VMs/xp/xp.vbox"/></MachineRegistry></Global></VirtualBox>`,
		"home/bob/VirtualBox VMs/xp/xp.vbox": `<?xml version="1.0"?><VirtualBox xmlns="http://www.virtualbox.org/" version="1.16-linux"><Machine uuid="{a1b2c3d4-0000-1111-2222-333344445555}" name="xp" OSType="WindowsXP">` +
			`<Hardware><CPU count="2"/><Memory RAMSize="512"/><Network><Adapter slot="0" enabled="true" MACAddress="080027ABCDEF" type="82540EM"/></Network></Hardware></Machine></VirtualBox>`,
	})
	vms := vmRoots{Root: root}.collect(context.Background())
	by := map[string]inventory.VirtualMachine{}
	for _, v := range vms {
		by[v.Type+"/"+v.Name] = v
	}
	if len(vms) != 9 {
		t.Errorf("%d machines: %+v", len(vms), vms)
	}
	check := func(key string, ok func(inventory.VirtualMachine) bool) {
		t.Helper()
		if v, found := by[key]; !found || !ok(v) {
			t.Errorf("%s = %+v (found %v)", key, v, found)
		}
	}
	check("docker/web", func(v inventory.VirtualMachine) bool {
		return v.Status == "running" && v.Image == "nginx:1.25" && v.MemoryBytes == 512<<20 && v.VCPUs == 2 && v.MAC == "02:42:ac:11:00:02"
	})
	check("docker/batch", func(v inventory.VirtualMachine) bool { return v.Status == "off" })
	check("podman/db", func(v inventory.VirtualMachine) bool {
		return v.Status == "running" && v.Image == "docker.io/library/postgres:16" && v.UUID == "c0ffee"
	})
	check("libvirt/win11", func(v inventory.VirtualMachine) bool {
		return v.Status == "off" && v.MemoryBytes == 8<<30 && v.VCPUs == 4 && v.MAC == "52:54:00:aa:bb:cc" && v.Subsystem == "kvm"
	})
	check("libvirt/debian", func(v inventory.VirtualMachine) bool { return v.Status == "running" && v.MemoryBytes == 1<<30 })
	check("lxc/web01", func(v inventory.VirtualMachine) bool {
		return v.Status == "running" && v.MemoryBytes == 1<<30 && v.VCPUs == 2 && v.MAC == "00:16:3e:12:34:56"
	})
	check("nspawn/build", func(v inventory.VirtualMachine) bool {
		return v.Status == "running" && v.UUID == "8f0b9c7a-2f6e-4d1c-9b3a-5e7d1f2c4b6a"
	})
	check("nspawn/old", func(v inventory.VirtualMachine) bool { return v.Status == "off" })
	check("virtualbox/xp", func(v inventory.VirtualMachine) bool {
		return v.UUID == "a1b2c3d4-0000-1111-2222-333344445555" && v.MemoryBytes == 512<<20 && v.VCPUs == 2 && v.MAC == "08:00:27:ab:cd:ef" && v.Owner == "bob"
	})
}

// /proc/bus/input/devices of a laptop (i8042 keyboard, USB mouse, touchpad, power button).
func TestParseInputDevices(t *testing.T) {
	in := `I: Bus=0019 Vendor=0000 Product=0001 Version=0000
N: Name="Power Button"
H: Handlers=kbd event0

I: Bus=0011 Vendor=0001 Product=0001 Version=ab41
N: Name="AT Translated Set 2 keyboard"
P: Phys=isa0060/serio0/input0
H: Handlers=sysrq kbd leds event3

I: Bus=0003 Vendor=046d Product=c077 Version=0111
N: Name="Logitech USB Optical Mouse"
H: Handlers=mouse0 event5

I: Bus=0018 Vendor=06cb Product=ce2d Version=0100
N: Name="SYNA8004:00 06CB:CE2D Touchpad"
H: Handlers=mouse1 event7

I: Bus=0000 Vendor=0000 Product=0000 Version=0000
N: Name="HDA Intel PCH Headphone"
H: Handlers=event9
`
	got := ParseInputDevices(in)
	if len(got) != 3 || got[0].Type != "keyboard" || got[0].Interface != "PS/2" || got[1].Type != "pointing" || got[1].Interface != "USB" ||
		got[2].Name != "SYNA8004:00 06CB:CE2D Touchpad" || got[2].Interface != "I2C" {
		t.Errorf("inputs = %+v", got)
	}
	cards := ParseASoundCards(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 32\n 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20 MS\n                      Jabra EVOLVE 20 MS at usb-0000:00:14.0-1, full speed\n")
	if len(cards) != 2 || cards[1].Driver != "USB-Audio" || cards[1].Name != "Jabra EVOLVE 20 MS" || cards[0].ID != "PCH" {
		t.Errorf("cards = %+v", cards)
	}
}

// This machine runs PostgreSQL, MariaDB and Redis (the CI image installs them): each must be
// found running, with the port it really listens on and a version.
func TestDatabasesOnThisMachine(t *testing.T) {
	dbs := dbScan{proc: "/proc", root: "/"}.scan(context.Background())
	found := map[string]inventory.DatabaseService{}
	for _, d := range dbs {
		if d.Running {
			if _, dup := found[d.Type]; dup {
				t.Errorf("%s reported twice: %+v", d.Type, dbs)
			}
			found[d.Type] = d
		}
	}
	// One server process is one entry: MariaDB is not also reported as MySQL.
	if _, ok := found["mysql"]; ok && found["mariadb"].Running {
		t.Errorf("MariaDB reported as MySQL too: %+v", dbs)
	}
	for typ, comm := range map[string]string{"postgresql": "postgres", "mariadb": "mariadbd", "redis": "redis-server"} {
		d, ok := found[typ]
		if !ok {
			if len(processesNamed("/proc", comm)) > 0 {
				t.Errorf("%s runs here but was not found running: %+v", comm, dbs)
			} else if os.Getenv("CI") != "" {
				t.Errorf("%s is not running here: %+v", typ, dbs)
			} else {
				t.Logf("%s not running here: skipped", typ)
			}
			continue
		}
		if d.Version == "" || d.Port == 0 {
			t.Errorf("%s = %+v", typ, d)
		}
		// The port found must really answer.
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", itoa(d.Port)), time.Second)
		if err != nil {
			t.Errorf("%s: port %d does not answer: %v", typ, d.Port, err)
			continue
		}
		c.Close()
	}
	// The anonymous probes agree with the package version.
	ctx := context.Background()
	if d, ok := found["mariadb"]; ok {
		v, err := mysqlHandshakeVersion(ctx, net.JoinHostPort("127.0.0.1", itoa(d.Port)))
		if err != nil || !strings.Contains(v, d.Version) {
			t.Errorf("MariaDB greeting %q (%v), package version %q", v, err, d.Version)
		}
	}
	if d, ok := found["redis"]; ok {
		v, err := redisInfoVersion(ctx, net.JoinHostPort("127.0.0.1", itoa(d.Port)))
		if err == nil && v != d.Version {
			t.Errorf("Redis INFO %q, package version %q", v, d.Version)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFirewallsOnThisMachine(t *testing.T) {
	var inv inventory.Inventory
	if err := collectFirewalls(context.Background(), &inv); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// As root the nftables state is always readable (netlink answers even with no table).
		var nft bool
		for _, f := range inv.Firewalls {
			nft = nft || f.Backend == "nftables" && (f.Status == "on" || f.Status == "off")
		}
		if !nft {
			t.Errorf("no nftables state as root: %+v", inv.Firewalls)
		}
	}
}

// The sock_diag answer finds a listener of the test's own, with the same socket inode as
// /proc/net/tcp (other tests open and close listeners meanwhile: only ours is compared).
func TestListeningTCPMatchesProc(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	got := map[string]int{}
	if err := sockDiagListen(unix.AF_INET, got); err != nil {
		t.Skipf("sock_diag unavailable here: %v", err)
	}
	inodeOf := func(m map[string]int) string {
		for inode, p := range m {
			if p == port {
				return inode
			}
		}
		return ""
	}
	want := listeningPorts(readStr("/proc/net/tcp"))
	if i := inodeOf(got); i == "" || i != inodeOf(want) {
		t.Errorf("own listener on %d: sock_diag inode %q, /proc inode %q", port, i, inodeOf(want))
	}
	if inodeOf(listeningTCP("/proc")) == "" {
		t.Errorf("listeningTCP misses the listener on %d", port)
	}
}
