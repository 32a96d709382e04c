package collectors

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// collectThisMachine runs every real category once for the tests that compare against the
// system itself.
func collectThisMachine(t *testing.T) *inventory.Inventory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, _ := os.Hostname()
	inv, err := New(Options{Identity: identity.Identity{Hostname: h, FQDN: h}}).Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestThisMachineCategoriesSucceed(t *testing.T) {
	inv := collectThisMachine(t)
	if len(inv.Meta.Categories) != len(categories()) {
		t.Errorf("%d category results for %d categories", len(inv.Meta.Categories), len(categories()))
	}
	for _, c := range inv.Meta.Categories {
		if c.Error != "" && !(c.Name == "printers" && os.Geteuid() != 0) {
			t.Errorf("category %s: %s", c.Name, c.Error)
		}
	}
}

func TestThisMachineSoftwareMatchesDpkg(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("not a dpkg system")
	}
	all, err := exec.Command("dpkg-query", "-W").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	status, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query status: %v", err)
	}
	installed := strings.Count(string(status), "installed\n") - strings.Count(string(status), "not-installed\n")
	inv := collectThisMachine(t)
	n := 0
	for _, s := range inv.Software {
		if s.Source == "dpkg" {
			n++
		}
	}
	if n != installed {
		t.Errorf("dpkg software = %d, dpkg-query reports %d installed", n, installed)
	}
	if lines := bytes.Count(all, []byte("\n")); lines == installed && n != lines {
		t.Errorf("dpkg software = %d, dpkg-query -W lists %d", n, lines)
	}
}

func TestThisMachineCPUAndMemory(t *testing.T) {
	inv := collectThisMachine(t)
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	model, logical := "", 0
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		case "processor":
			logical++
		}
	}
	if len(inv.CPUs) == 0 {
		t.Fatal("no CPU")
	}
	if model != "" && inv.CPUs[0].Model != model {
		t.Errorf("CPU model = %q, /proc/cpuinfo says %q", inv.CPUs[0].Model, model)
	}
	threads := 0
	for _, c := range inv.CPUs {
		threads += c.Threads
	}
	if threads != logical {
		t.Errorf("threads = %d, /proc/cpuinfo lists %d processors", threads, logical)
	}
	meminfo, _ := os.ReadFile("/proc/meminfo")
	var totalKB uint64
	for line := range strings.Lines(string(meminfo)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			totalKB, _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	if inv.Memory.TotalBytes != totalKB*1024 || totalKB == 0 {
		t.Errorf("RAM = %d, MemTotal = %d kB", inv.Memory.TotalBytes, totalKB)
	}
}

func TestThisMachineInterfacesAndMounts(t *testing.T) {
	inv := collectThisMachine(t)
	have := map[string]inventory.Network{}
	for _, n := range inv.Networks {
		have[n.Name] = n
	}
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "lo" {
			continue
		}
		n, ok := have[e.Name()]
		if !ok {
			t.Errorf("interface %s missing", e.Name())
			continue
		}
		if mac := strings.ToLower(strings.TrimSpace(readStr("/sys/class/net/" + e.Name() + "/address"))); mac != "" && mac != "00:00:00:00:00:00" && n.MAC != mac {
			t.Errorf("%s MAC = %q, sysfs says %q", e.Name(), n.MAC, mac)
		}
	}
	mounted := map[string]bool{}
	for _, v := range inv.Volumes {
		mounted[v.Mountpoint] = true
		if v.TotalBytes == 0 && !v.Network {
			t.Errorf("volume %s has no size", v.Mountpoint)
		}
	}
	// Independent reading of mountinfo: every block-device filesystem must be listed.
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for line := range strings.Lines(string(mi)) {
		f := strings.Fields(line)
		i := 0
		for i = range f {
			if f[i] == "-" {
				break
			}
		}
		if i+2 >= len(f) || !strings.HasPrefix(f[i+2], "/dev/") || f[i+1] == "squashfs" {
			continue
		}
		mp := strings.ReplaceAll(f[4], `\040`, " ")
		if !mounted[mp] {
			t.Errorf("mounted filesystem %s (%s on %s) missing", mp, f[i+1], f[i+2])
		}
	}
}

func TestThisMachineOSAndUsers(t *testing.T) {
	inv := collectThisMachine(t)
	if k := readStr("/proc/sys/kernel/osrelease"); inv.OS.KernelVersion != k {
		t.Errorf("kernel = %q, want %q", inv.OS.KernelVersion, k)
	}
	if inv.OS.Name == "" || inv.OS.Family != "linux" || inv.OS.Arch == "" {
		t.Errorf("os = %+v", inv.OS)
	}
	pw, _ := os.ReadFile("/etc/passwd")
	n := 0
	for line := range strings.Lines(string(pw)) {
		if strings.Count(line, ":") >= 6 && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	if len(inv.Users) != n {
		t.Errorf("users = %d, /etc/passwd has %d", len(inv.Users), n)
	}
	if inv.System.Uptime <= 0 || inv.System.BootTime.IsZero() || inv.System.Virtual.Kind == "" {
		t.Errorf("system = %+v", inv.System)
	}
	if len(inv.Processes) == 0 {
		t.Error("no processes")
	}
	var self bool
	for _, p := range inv.Processes {
		self = self || int(p.PID) == os.Getpid()
		if p.MemBytes > 0 && (p.MemPercent <= 0 || p.MemPercent > 100) {
			t.Errorf("process %d: mem %d bytes, %.3f %%", p.PID, p.MemBytes, p.MemPercent)
		}
	}
	if !self {
		t.Error("the test process itself is not listed")
	}
}

func TestLinuxCategoriesListed(t *testing.T) {
	checkCategories(t, categories(), []string{"system", "os", "cpu", "memory", "gpu", "controllers", "disks", "volumes",
		"network", "monitors", "printers", "software", "users", "logins", "batteries", "usb", "antivirus", "processes",
		"envs", "firewalls", "lvm", "ports", "slots", "powersupplies", "sounds", "inputs", "modems", "cameras", "remote_mgmt",
		"virtualmachines", "databases"})
}

// TestVolumeUsedAndAvailLikeDf: the root volume's used and available bytes are df's Used and
// Avail (OCO's percentage is computed from them; reserved blocks are neither).
func TestVolumeUsedAndAvailLikeDf(t *testing.T) {
	out, err := exec.Command("df", "-B1", "--output=used,avail", "/").Output()
	if err != nil {
		t.Skipf("df (coreutils) unavailable: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		t.Fatalf("df output %q", out)
	}
	dfUsed, _ := strconv.ParseUint(f[2], 10, 64)
	dfAvail, _ := strconv.ParseUint(f[3], 10, 64)
	inv := &inventory.Inventory{}
	if err := collectVolumes(context.Background(), inv); err != nil {
		t.Logf("volumes: %v", err) // other mounts may be unreadable here
	}
	near := func(a, b uint64) bool { d := int64(a) - int64(b); return d < 1<<30 && d > -(1<<30) } // other writers
	for _, v := range inv.Volumes {
		if v.Mountpoint != "/" {
			continue
		}
		if !near(v.UsedBytes, dfUsed) || !near(v.FreeBytes, dfAvail) {
			t.Errorf("/ used %d avail %d, df says %d and %d", v.UsedBytes, v.FreeBytes, dfUsed, dfAvail)
		}
		return
	}
	t.Skip("no / volume listed (container root on an unlisted filesystem)")
}
