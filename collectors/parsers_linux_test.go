package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

func TestParseDpkgStatus(t *testing.T) {
	sw := ParseDpkgStatus(readFixture(t, "dpkg_status"))
	// 4 installed + 1 held; the config-files leftover is not installed.
	if len(sw) != 5 {
		t.Fatalf("%d packages: %+v", len(sw), sw)
	}
	byName := map[string]inventory.Software{}
	for _, s := range sw {
		byName[s.Name] = s
	}
	if _, ok := byName["oldpkg"]; ok {
		t.Error("config-files package listed")
	}
	b := byName["bash"]
	if b.Version != "5.2.15-2+b8" || b.Arch != "amd64" || b.SizeBytes != 7164*1024 || b.Source != "dpkg" || b.Category != "shells" || !strings.Contains(b.Publisher, "Matthias Klose") {
		t.Errorf("bash = %+v", b)
	}
	if byName["libc6"].MultiArch != "same" || b.MultiArch != "foreign" || byName["held-tool"].MultiArch != "" {
		// MIG's pkg module names Multi-Arch: same packages "libc6:amd64" from it.
		t.Errorf("Multi-Arch: libc6 %q bash %q held-tool %q", byName["libc6"].MultiArch, b.MultiArch, byName["held-tool"].MultiArch)
	}
	if h := byName["held-tool"]; h.Version != "2:4.5-1+deb12u1" || h.URL != "https://example.org/held" || h.Comment != "a held package" {
		t.Errorf("held = %+v", h)
	}
}

func TestParseRPMQuery(t *testing.T) {
	sw := ParseRPMQuery(readFixture(t, "rpm_qa.txt"))
	if len(sw) != 3 {
		t.Fatalf("%d packages (gpg-pubkey must be dropped): %+v", len(sw), sw)
	}
	k := sw[1]
	if k.Name != "kernel-core" || k.Version != "6.8.5-301.fc40" || k.Arch != "x86_64" || k.Publisher != "Fedora Project" ||
		k.SizeBytes != 67549362 || !k.InstallDate.Equal(time.Unix(1712745800, 0)) || k.URL != "https://www.kernel.org/" {
		t.Errorf("kernel = %+v", k)
	}
	if p := sw[2]; p.Version != "1:2.57-3.fc40" || p.Arch != "noarch" {
		t.Errorf("epoch = %+v", p)
	}
}

func TestParseApkAndPacman(t *testing.T) {
	apk := ParseApkInstalled([]byte("C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:403000\nI:405504\nT:the musl c library\nU:https://musl.libc.org/\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1715000000\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\n\n"))
	if len(apk) != 2 || apk[0].Name != "musl" || apk[0].SizeBytes != 405504 || apk[0].URL != "https://musl.libc.org/" || apk[1].Version != "1.36.1-r29" {
		t.Errorf("apk = %+v", apk)
	}
	p, ok := ParsePacmanDesc([]byte("%NAME%\nlinux\n\n%VERSION%\n6.9.7.arch1-1\n\n%DESC%\nThe Linux kernel and modules\n\n%ARCH%\nx86_64\n\n%INSTALLDATE%\n1719000000\n\n%SIZE%\n138000000\n\n%PACKAGER%\nJan Alexander Steffens <heftig@archlinux.org>\n\n%LICENSE%\nGPL-2.0-only\n\n"))
	if !ok || p.Name != "linux" || p.Version != "6.9.7.arch1-1" || p.SizeBytes != 138000000 || !p.InstallDate.Equal(time.Unix(1719000000, 0)) || p.Publisher == "" {
		t.Errorf("pacman = %+v", p)
	}
	fp := ParseFlatpakList([]byte("org.mozilla.firefox\tFirefox\t128.0\tstable\tx86_64\tflathub\n"))
	if len(fp) != 1 || fp[0].Name != "Firefox" || fp[0].Version != "128.0" || fp[0].Publisher != "flathub" {
		t.Errorf("flatpak = %+v", fp)
	}
}

func TestApplyOSRelease(t *testing.T) {
	tests := []struct{ file, name, full, id, version, codename, edition string }{
		{"os-release_debian12", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)", "debian", "12", "bookworm", ""},
		{"os-release_ubuntu2404", "Ubuntu", "Ubuntu 24.04.1 LTS", "ubuntu", "24.04", "noble", ""},
		{"os-release_fedora40", "Fedora Linux", "Fedora Linux 40 (Workstation Edition)", "fedora", "40", "", "Workstation Edition"},
		{"os-release_alpine", "Alpine Linux", "Alpine Linux v3.20", "alpine", "3.20.3", "", ""},
	}
	for _, tt := range tests {
		var o inventory.OS
		applyOSRelease(&o, parseKV(readFixture(t, tt.file)))
		if o.Name != tt.name || o.FullName != tt.full || o.ID != tt.id || o.Version != tt.version || o.Codename != tt.codename || o.Edition != tt.edition {
			t.Errorf("%s: %+v", tt.file, o)
		}
	}
}

func TestPreciseVersion(t *testing.T) {
	files := map[string]string{}
	read := func(p string) string { return files[p] }
	tests := []struct {
		rel            map[string]string
		file, content  string
		version, major string
	}{
		{map[string]string{"ID": "debian", "VERSION_ID": "12"}, "/etc/debian_version", "12.11", "12.11", "12"},
		{map[string]string{"ID": "debian"}, "/etc/debian_version", "trixie/sid", "", ""},
		{map[string]string{"ID": "debian", "VERSION_ID": "13"}, "/etc/debian_version", "trixie/sid", "13", "13"},
		{map[string]string{"ID": "ubuntu", "VERSION_ID": "24.04", "VERSION": "24.04.1 LTS (Noble Numbat)"}, "", "", "24.04.1", "24"},
		{map[string]string{"ID": "centos", "VERSION_ID": "7"}, "/etc/centos-release", "CentOS Linux release 7.9.2009 (Core)", "7.9.2009", "7"},
		{map[string]string{"ID": "rocky", "VERSION_ID": "9.4"}, "/etc/rocky-release", "Rocky Linux release 9.4 (Blue Onyx)", "9.4", "9"},
		{map[string]string{"ID": "fedora", "VERSION_ID": "40"}, "", "", "40", "40"},
		{map[string]string{"ID": "alpine", "VERSION_ID": "3.20.3"}, "", "", "3.20.3", "3"},
	}
	for _, tt := range tests {
		clear(files)
		files[tt.file] = tt.content
		v, m := preciseVersion(tt.rel, read)
		if v != tt.version || m != tt.major {
			t.Errorf("%v + %q: %q %q, want %q %q", tt.rel, tt.content, v, m, tt.version, tt.major)
		}
	}
	// This machine: Debian's point release when it is Debian.
	if rel := readKV("/etc/os-release"); rel["ID"] == "debian" && readStr("/etc/debian_version") != "" {
		v, m := preciseVersion(rel, readStr)
		if want := readStr("/etc/debian_version"); strings.Contains(want, ".") && (v != want || m != rel["VERSION_ID"]) {
			t.Errorf("this machine: %q %q, /etc/debian_version %q", v, m, want)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	x := ParseCPUInfo(readFixture(t, "cpuinfo_xeon_2vcpu.txt"))
	if len(x) != 1 {
		t.Fatalf("xeon: %d packages", len(x))
	}
	if c := x[0]; c.Model != "Intel(R) Xeon(R) Processor @ 2.80GHz" || c.Vendor != "GenuineIntel" || c.Family != "6" || c.ModelNumber != "106" ||
		c.Stepping != "6" || c.Cores != 2 || c.Threads != 2 || c.SpeedHz != 2.8e9 {
		t.Errorf("xeon = %+v", c)
	}
	a := ParseCPUInfo(readFixture(t, "cpuinfo_rpi4.txt"))
	if len(a) != 1 {
		t.Fatalf("rpi: %d packages", len(a))
	}
	if c := a[0]; c.Model != "ARM Cortex-A72" || c.Vendor != "ARM" || c.Cores != 4 || c.Threads != 4 || c.Serial != "10000000a1b2c3d4" || c.ModelNumber != "0xd08" {
		t.Errorf("rpi = %+v", c)
	}
	if got := ParseCPUInfo([]byte("garbage\n\n:::\n")); got != nil {
		t.Errorf("garbage = %+v", got)
	}
}

func TestParseMountinfo(t *testing.T) {
	ms := ParseMountinfo(readFixture(t, "mountinfo.txt"))
	if len(ms) != 11 {
		t.Fatalf("%d mounts", len(ms))
	}
	var real []string
	for _, m := range ms {
		if IsRealMount(m) {
			real = append(real, m.Mountpoint)
		}
	}
	want := "/ /boot /boot/efi /home/my data /mnt/nas"
	if got := strings.Join(real, " "); got != want {
		t.Errorf("real mounts = %q, want %q", got, want)
	}
	if m := ms[4]; m.MajMin != "253:1" || m.FSType != "ext4" || m.Source != "/dev/mapper/vg0-root" || m.Options != "rw,relatime" {
		t.Errorf("root = %+v", m)
	}
}

func TestParseMeminfoAndRoutes(t *testing.T) {
	mi := ParseMeminfo([]byte("MemTotal:       16314972 kB\nMemAvailable:    9000000 kB\nHugePages_Total:       0\n"))
	if mi["MemTotal"] != 16314972*1024 || mi["HugePages_Total"] != 0 || mi["MemAvailable"] != 9000000*1024 {
		t.Errorf("meminfo = %v", mi)
	}
	gw := ParseRoute("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
	if gw["eth0"] != "192.0.2.1" || len(gw) != 1 {
		t.Errorf("route = %v", gw)
	}
	gw6 := ParseIPv6Route("00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\nfe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0\n")
	if gw6["eth0"] != "fd00::1" || len(gw6) != 1 {
		t.Errorf("ipv6 route = %v", gw6)
	}
	leases := ParseDhclientLeases("lease {\n  interface \"eth0\";\n  fixed-address 10.0.0.5;\n  option dhcp-server-identifier 10.0.0.1;\n}\nlease {\n  interface \"wlan0\";\n  option dhcp-server-identifier 192.168.1.1;\n}\n")
	if leases["eth0"] != "10.0.0.1" || leases["wlan0"] != "192.168.1.1" {
		t.Errorf("leases = %v", leases)
	}
}

func TestParsePasswd(t *testing.T) {
	users, groups := ParsePasswd(
		[]byte("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/zsh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n#comment\n"),
		[]byte("root:x:0:\nalice:x:1000:\nsudo:x:27:alice\ndocker:x:999:alice,bob\n"), 1000)
	if len(users) != 3 || len(groups) != 4 {
		t.Fatalf("users %d groups %d", len(users), len(groups))
	}
	a := users[1]
	if a.FullName != "Alice Liddell" || a.System || strings.Join(a.Groups, ",") != "alice,sudo,docker" || a.Shell != "/bin/zsh" {
		t.Errorf("alice = %+v", a)
	}
	if !users[0].System || !users[2].System {
		t.Error("root and nobody are system accounts")
	}
	if strings.Join(groups[3].Members, ",") != "alice,bob" {
		t.Errorf("docker members = %v", groups[3].Members)
	}
}

func TestParseCUPSPrinters(t *testing.T) {
	ps := ParseCUPSPrinters([]byte(`# Printer configuration file for CUPS v2.4.2
<DefaultPrinter Office_Laser>
Info HP LaserJet in the office
Location 2nd floor
MakeModel HP LaserJet Pro M404, hpcups 3.22.10
DeviceURI smb://printuser:secret@fileserver/office
State Idle
Shared Yes
</DefaultPrinter>
<Printer PDF>
MakeModel Generic CUPS-PDF Printer (w/ options)
DeviceURI cups-pdf:/
State Stopped
Shared No
</Printer>
`))
	if len(ps) != 2 {
		t.Fatalf("%d printers", len(ps))
	}
	o := ps[0]
	if o.Name != "Office_Laser" || !o.Default || !o.Shared || !o.Network || o.Status != "idle" || o.Location != "2nd floor" ||
		o.Port != "smb://printuser@fileserver/office" || !strings.HasPrefix(o.Driver, "HP LaserJet Pro") {
		t.Errorf("office = %+v", o)
	}
	if p := ps[1]; p.Default || p.Shared || p.Network || p.Status != "stopped" {
		t.Errorf("pdf = %+v", p)
	}
}

func TestParseProcStat(t *testing.T) {
	p, ok := ParseProcStat([]byte("1234 (my (weird) proc) S 1 1234 1234 34816 1234 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5000 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"))
	if !ok || p.comm != "my (weird) proc" || p.ppid != 1 || p.flags != 4194560 || p.flags&pfKthread != 0 || p.utime != 250 || p.stime != 50 || p.start != 5000 || p.vsize != 123456789 || p.rss != 2048 {
		t.Errorf("stat = %+v", p)
	}
	if ttyName(p.tty) != "pts/0" {
		t.Errorf("tty = %q", ttyName(p.tty))
	}
	if _, ok := ParseProcStat([]byte("12 (x) S 1")); ok {
		t.Error("short stat accepted")
	}
	// Exactly the fields read (state to rss) is enough; one fewer is not.
	fields := strings.Fields("S 7 1 1 0 -1 2129984 0 0 0 0 3 4 0 0 20 0 1 0 600 8192 9")
	if p, ok := ParseProcStat([]byte("5 (k) " + strings.Join(fields, " "))); !ok || p.ppid != 7 || p.flags&pfKthread == 0 || p.utime != 3 || p.start != 600 || p.vsize != 8192 || p.rss != 9 {
		t.Errorf("22 fields: %+v %v", p, ok)
	}
	if _, ok := ParseProcStat([]byte("5 (k) " + strings.Join(fields[:21], " ") + "\n")); ok {
		t.Error("21 fields accepted")
	}
	if p, ok := ParseProcStat([]byte("5 (k)  " + strings.Join(fields, "  ") + " \n")); !ok || p.rss != 9 {
		t.Errorf("doubled spaces: %+v %v", p, ok)
	}
}

func TestParseExtSuperblock(t *testing.T) {
	sb := make([]byte, 1024)
	sb[0x38], sb[0x39] = 0x53, 0xef
	copy(sb[0x68:], []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef})
	copy(sb[0x78:], "rootfs")
	label, uuid := ParseExtSuperblock(sb)
	if label != "rootfs" || uuid != "12345678-9abc-def0-0123-456789abcdef" {
		t.Errorf("ext = %q %q", label, uuid)
	}
	if l, u := ParseExtSuperblock(make([]byte, 1024)); l != "" || u != "" {
		t.Error("no magic accepted")
	}
}

func TestLookupPCIIDs(t *testing.T) {
	ids := "# pci.ids excerpt\n8086  Intel Corporation\n\t9a49  TigerLake-LP GT2 [Iris Xe Graphics]\n\t\t1028 0a38  Iris Xe\n\t9a60  TigerLake-H GT1\n10de  NVIDIA Corporation\n\t2204  GA102 [GeForce RTX 3090]\nC 03  Display controller\n\t00  VGA compatible controller\n"
	devs := []pciDevice{{Vendor: "8086", Device: "9a49"}, {Vendor: "10de", Device: "2204"}, {Vendor: "1234", Device: "1111"}}
	names := lookupPCIIDs([]byte(ids), devs)
	if names["8086"] != "Intel Corporation" || names["8086:9a49"] != "TigerLake-LP GT2 [Iris Xe Graphics]" || names["10de:2204"] != "GA102 [GeForce RTX 3090]" {
		t.Errorf("names = %v", names)
	}
	if _, ok := names["8086:9a60"]; ok {
		t.Error("unwanted device named")
	}
	// A vendor without devices must not borrow the next vendor's, nor the first line's vendor
	// be missed; the class section is not read as vendors.
	ids = "0001  SafeNet\n1000  Broadcom / LSI\n\t0001  53c810\n1234  QEMU\nC 0c  Serial\n\t1111  not a device\n"
	devs = []pciDevice{{Vendor: "0001", Device: "0001"}, {Vendor: "1234", Device: "1111"}, {Vendor: "1000", Device: "0001"}}
	names = lookupPCIIDs([]byte(ids), devs)
	if names["0001"] != "SafeNet" || names["1000:0001"] != "53c810" || names["1234"] != "QEMU" {
		t.Errorf("names = %v", names)
	}
	if _, ok := names["0001:0001"]; ok {
		t.Errorf("device named from the next vendor: %v", names)
	}
	if _, ok := names["1234:1111"]; ok {
		t.Errorf("device named from the class section: %v", names)
	}
	if pciClassName("030000") != "VGA compatible controller" || pciClassName("0b4000") != "Processor" {
		t.Error("class names")
	}
}

func TestLoginsFromFileStreams(t *testing.T) {
	// 600 copies of the fixture: more records than one read buffer and than maxLogins.
	one := readFixture(t, "wtmp")
	big := bytes.Repeat(one, 600)
	p := filepath.Join(t.TempDir(), "wtmp")
	if err := os.WriteFile(p, append(big, one[:100]...), 0o600); err != nil {
		t.Fatal(err)
	}
	logins, err := loginsFromFile(context.Background(), p, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != maxLogins {
		t.Fatalf("%d logins, want the newest %d", len(logins), maxLogins)
	}
	cut := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	since, err := loginsFromFile(context.Background(), p, cut)
	if err != nil || len(since) == 0 {
		t.Fatalf("since: %d logins, %v", len(since), err)
	}
	for _, l := range since {
		if !l.Time.After(cut) || l.User == "bob" {
			t.Fatalf("login before the cut: %+v", l)
		}
	}
	if l, err := loginsFromFile(context.Background(), filepath.Join(t.TempDir(), "none"), time.Time{}); err != nil || l != nil {
		t.Errorf("missing file: %v %v", l, err)
	}
}

func TestLinuxHelpers(t *testing.T) {
	for _, tt := range []struct{ dmi, want string }{
		{"QEMU Standard PC (Q35 + ICH9, 2009) SeaBIOS", "qemu"}, {"VMware, Inc. VMware7,1", "vmware"},
		{"innotek GmbH VirtualBox", "virtualbox"}, {"Microsoft Corporation Virtual Machine Hyper-V UEFI", "hyperv"},
		{"Amazon EC2 m5.large", "amazon"}, {"Dell Inc. Latitude 7420", ""}, {"LENOVO 20XWCTO1WW", ""},
	} {
		if got := vmVendor(tt.dmi); got != tt.want {
			t.Errorf("vmVendor(%q) = %q, want %q", tt.dmi, got, tt.want)
		}
	}
	if d := resolvDomain("# x\nsearch corp.example lab.example\nnameserver 10.0.0.1\n"); d != "corp.example" {
		t.Errorf("search domain = %q", d)
	}
	if d := resolvDomain("domain ad.example\nsearch other.example\n"); d != "ad.example" {
		t.Errorf("domain = %q", d)
	}
	kv := parseKV([]byte("# comment\nLANG=\"de_DE.UTF-8\"\nexport LC_ALL='fr_FR'\nPRETTY=\"a \\\"quoted\\\" \\$x\"\nbroken line\n"))
	if kv["LANG"] != "de_DE.UTF-8" || kv["LC_ALL"] != "fr_FR" || kv["PRETTY"] != `a "quoted" $x` || len(kv) != 3 {
		t.Errorf("kv = %q", kv)
	}
	if l := linuxLanguage("", "de_DE.UTF-8@euro"); l != "de_DE" {
		t.Errorf("language = %q", l)
	}
	if bt := bootTime("cpu  1 2 3\nbtime 1767225600\nprocesses 5\n"); !bt.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("btime = %v", bt)
	}
	for _, tt := range []struct{ name, link, want string }{
		{"nvme0n1", "../devices/pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0/nvme0n1", "NVMe"},
		{"sda", "../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "SATA"},
		{"sdb", "../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb", "USB"},
		{"vda", "../devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "virtio"},
		{"sdc", "../devices/pci0000:00/0000:00:10.0/host2/target2:0:1/2:0:1:0/block/sdc", "SCSI"},
	} {
		if got := diskInterface(tt.name, tt.link); got != tt.want {
			t.Errorf("diskInterface(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	a := ipv4Addr([]byte{192, 168, 1, 20}, []byte{255, 255, 255, 0})
	if a.Prefix != 24 || a.Netmask != "255.255.255.0" || a.Subnet != "192.168.1.0" || a.Broadcast != "192.168.1.255" {
		t.Errorf("ipv4 = %+v", a)
	}
	if p2p := ipv4Addr([]byte{10, 0, 0, 1}, []byte{255, 255, 255, 255}); p2p.Broadcast != "" {
		t.Errorf("/32 broadcast = %q", p2p.Broadcast)
	}
	if u := unescapeUdev(`My\x20Disk`); u != "My Disk" {
		t.Errorf("udev label = %q", u)
	}
	if r := redactURI("ipp://printer.example:631/ipp/print"); r != "ipp://printer.example:631/ipp/print" {
		t.Errorf("uri = %q", r)
	}
	if n := parseCacheSize("1280K"); n != 1280*1024 {
		t.Errorf("cache = %d", n)
	}
	if CleanDMI("To Be Filled By O.E.M.") != "" || CleanDMI("00000000") != "" || CleanDMI(" PF2ABCDE ") != "PF2ABCDE" {
		t.Error("CleanDMI")
	}
}

func TestParseCVDHeader(t *testing.T) {
	hdr := []byte("ClamAV-VDB:29 Nov 2026 08-26 +0000:27473:2071594:90:X:X:raynman:1764404800" + strings.Repeat(" ", 100))
	v, built, ok := ParseCVDHeader(hdr)
	if !ok || v != "27473" || !built.Equal(time.Date(2026, 11, 29, 8, 26, 0, 0, time.UTC)) {
		t.Errorf("header = %q %v %v", v, built, ok)
	}
	if _, _, ok := ParseCVDHeader([]byte("not a cvd")); ok {
		t.Error("garbage accepted")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "daily.cld"), hdr, 0o600); err != nil {
		t.Fatal(err)
	}
	if sig, fresh := clamavSignatures(dir, built.Add(24*time.Hour)); sig != "27473" || !fresh {
		t.Errorf("fresh = %q %v", sig, fresh)
	}
	if _, fresh := clamavSignatures(dir, built.Add(30*24*time.Hour)); fresh {
		t.Error("a month-old database is current")
	}
}

func TestPCIFindVendorSortedAndNot(t *testing.T) {
	var b strings.Builder
	b.WriteString("# header\n\n")
	var ids []string
	for v := 0; v < 0x10000; v += 37 {
		id := fmt.Sprintf("%04x", v)
		ids = append(ids, id)
		fmt.Fprintf(&b, "%s  Vendor %s\n\t0001  Device of %s\n\t\t0002 0003  Sub\n# comment\n", id, id, id)
	}
	sorted := []byte(b.String() + "C 00  Unclassified\n")
	p := newPCIIDs(sorted)
	for _, id := range ids {
		names := p.lookup([]pciDevice{{Vendor: id, Device: "0001"}})
		if names[id] != "Vendor "+id || names[id+":0001"] != "Device of "+id {
			t.Fatalf("vendor %s: %v", id, names)
		}
	}
	if names := p.lookup([]pciDevice{{Vendor: "0001", Device: "0001"}}); len(names) != 0 {
		t.Errorf("absent vendor named: %v", names)
	}
	// Out of order: the linear fallback still finds it.
	unsorted := []byte("8086  Intel\n\t1234  Chip\n1af4  Red Hat\n\t1000  Virtio\n0002  Early\n")
	names := lookupPCIIDs(unsorted, []pciDevice{{Vendor: "0002", Device: "9999"}, {Vendor: "1af4", Device: "1000"}})
	if names["0002"] != "Early" || names["1af4:1000"] != "Virtio" {
		t.Errorf("unsorted: %v", names)
	}
}

// TestNamePCINICs: NICs named from the collection's PCI scan get the names pci.ids gives
// them, and one missing from the bus is still looked up.
func TestNamePCINICs(t *testing.T) {
	nics := []pciDevice{{Vendor: "ffff", Device: "fffe"}, {Vendor: "1af4", Device: "1041"}}
	if bus, _ := pciDevices(context.Background()); len(bus) > 0 {
		nics = append(nics, pciDevice{Vendor: bus[0].Vendor, Device: bus[0].Device})
	}
	want := append([]pciDevice(nil), nics...)
	namePCI(want)
	ctx := withShared(context.Background())
	namePCINICs(ctx, nics)
	if fmt.Sprint(nics) != fmt.Sprint(want) {
		t.Errorf("names = %+v\nwant %+v", nics, want)
	}
	if nics[1].DeviceName == "" {
		t.Errorf("virtio NIC unnamed: %+v", nics[1])
	}
}

func TestPCIIDsClosed(t *testing.T) {
	p := newPCIIDs([]byte("1af4  Red Hat\n\t1000  Virtio\n"))
	p.unmap = func() {}
	p.close()
	p.close() // twice is harmless
	if names := p.lookup([]pciDevice{{Vendor: "1af4", Device: "1000"}}); len(names) != 0 {
		t.Errorf("lookup after close: %v", names)
	}
}

// TestDpkgPackagesStreamed: the file streamed in chunks (paragraphs cut by the buffer, one
// larger than the buffer) gives what parsing it whole gives.
func TestDpkgPackagesStreamed(t *testing.T) {
	fixture := readFixture(t, "dpkg_status")
	big := "Package: big\nStatus: install ok installed\nVersion: 1\nDescription: large\n" +
		strings.Repeat(" a continuation line of a long description\n", 3000) + "\n" // > 64 KiB
	tests := []struct {
		name    string
		content []byte
		want    int
	}{
		{"fixture", fixture, 5},
		{"fixture repeated past the buffer", bytes.Repeat(append(bytes.TrimRight(fixture, "\n"), "\n\n"...), 200), 1000},
		{"paragraph larger than the buffer", append([]byte(big), fixture...), 6},
		{"no final newline", []byte("Package: x\nStatus: install ok installed\nVersion: 2"), 1},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "status")
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := dpkgPackages(path)
			if err != nil {
				t.Fatal(err)
			}
			want := ParseDpkgStatus(tt.content)
			if len(got) != tt.want || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%d packages, want %d:\n got %+v\nwant %+v", len(got), tt.want, got, want)
			}
			if cap(got) != len(got) {
				t.Errorf("capacity %d for %d packages: the cached inventory keeps the spare room", cap(got), len(got))
			}
		})
	}
	if _, err := dpkgPackages(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDpkgParagraphsOneByteReads(t *testing.T) {
	in := "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n\n\nPackage: c\n"
	var got []string
	if err := dpkgParagraphs(iotest.OneByteReader(strings.NewReader(in)), func(b []byte) { got = append(got, string(b)) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "") != in {
		t.Errorf("paragraphs %q do not add up to the input", got)
	}
	for _, p := range got[:len(got)-1] {
		if !strings.HasSuffix(p, "\n\n") {
			t.Errorf("chunk %q does not end at a paragraph end", p)
		}
	}
	if err := dpkgParagraphs(iotest.ErrReader(errors.New("boom")), func([]byte) {}); err == nil {
		t.Error("read error not returned")
	}
}

func TestReadStr(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ content, want string }{
		{"  0x8086 \n", "0x8086"},
		{"a \xff", "a"},
		{"\xffab\xfe\n", "ab"},
		{"", ""},
		{strings.Repeat("x", 3000) + "\n", strings.Repeat("x", 3000)}, // past readStr's stack buffer
	}
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := readStr(path); got != tt.want {
			t.Errorf("readStr(%q) = %q, want %q", tt.content, got, tt.want)
		}
	}
	if got := readStr(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing file = %q", got)
	}
}

// TestReadProcFileWhole: a generated file longer than the room given is still read whole
// (only a read shorter than the room ends it early).
func TestReadProcFileWhole(t *testing.T) {
	// /proc/crypto is a seq_file of many records over 4 KiB: its reads stop at a page
	// whatever the room, so a short read there is not its end.
	for _, path := range []string{"/proc/filesystems", "/proc/self/cmdline", "/proc/self/environ", "/proc/version",
		"/proc/crypto", "/sys/kernel/mm/transparent_hugepage/enabled"} {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Logf("%s: %v", path, err)
			continue
		}
		for _, size := range []int{0, 7, 4096, 64 << 10} {
			got, err := readProcFile(path, make([]byte, 0, size))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s with a %d-byte buffer: %d bytes, want %d", path, size, len(got), len(want))
			}
		}
	}
}

func TestDpkgInstalled(t *testing.T) {
	tests := []struct {
		status string
		want   bool
	}{
		{"install ok installed", true},
		{"hold ok installed", true},
		{"  install\tok   unpacked ", true},
		{"deinstall ok config-files", false},
		{"purge ok not-installed", false},
		{"install ok", false},
		{"install ok installed extra", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := dpkgInstalled([]byte(tt.status)); got != tt.want {
			t.Errorf("dpkgInstalled(%q) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestWholeOnFirstRead(t *testing.T) {
	tests := []struct {
		path string
		want int
	}{
		{"/sys/bus/pci/devices/0000:00:01.0/vendor", 4096},
		{"/proc/123/stat", math.MaxInt},
		{"/proc/stat", math.MaxInt},
		{"/proc/123/cmdline", math.MaxInt},
		{"/proc/net/route", 0},
		{"/proc/bus/input/devices", 0},
		{"/etc/passwd", 0},
		{"/system/stat", 0},
	}
	for _, tt := range tests {
		if got := wholeOnFirstRead(tt.path); got != tt.want {
			t.Errorf("wholeOnFirstRead(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	paths := []string{"/proc/crypto", "/proc/self/mountinfo", "/sys/kernel/mm/transparent_hugepage/enabled"}
	for i, size := range []int{0, 1, 511, 512, 100 << 10} {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Logf("%s: %v", p, err)
			continue
		}
		got, err := readFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes (%v), want %d", p, len(got), err, len(want))
		}
	}
	if _, err := readFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := readFile(dir); err == nil {
		t.Error("a directory read as a file")
	}
}

// TestReadDirMatchesOS: names, order and types as os.ReadDir gives them.
func TestReadDirMatchesOS(t *testing.T) {
	tmp := t.TempDir()
	for _, f := range []string{"b", "a", "10", "9"} {
		if err := os.WriteFile(filepath.Join(tmp, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(tmp, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{tmp, "/proc", "/dev", "/sys/bus/pci/devices", "/sys/class/net"} {
		want, err := os.ReadDir(dir)
		if err != nil {
			t.Logf("%s: %v", dir, err)
			continue
		}
		got, err := readDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		// /proc changes between the two reads: compare the entries both have.
		gotBy := map[string]fs.DirEntry{}
		var names []string
		for _, e := range got {
			gotBy[e.Name()] = e
			names = append(names, e.Name())
		}
		if !sort.StringsAreSorted(names) {
			t.Errorf("%s: not sorted", dir)
		}
		common := 0
		for _, w := range want {
			g, ok := gotBy[w.Name()]
			if !ok {
				continue
			}
			common++
			if g.Type() != w.Type() || g.IsDir() != w.IsDir() {
				t.Errorf("%s/%s: type %v, want %v", dir, w.Name(), g.Type(), w.Type())
			}
			gi, gerr := g.Info()
			wi, werr := w.Info()
			if (gerr == nil) != (werr == nil) || (gerr == nil && gi.Mode() != wi.Mode()) {
				t.Errorf("%s/%s: info %v %v, want %v %v", dir, w.Name(), gi, gerr, wi, werr)
			}
		}
		if dir != "/proc" && (common != len(want) || len(got) != len(want)) {
			t.Errorf("%s: %d entries, want %d", dir, len(got), len(want))
		}
	}
	if _, err := readDir(filepath.Join(tmp, "a")); err == nil {
		t.Error("a file read as a directory")
	}
	if _, err := readDir(filepath.Join(tmp, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestParsePCIUevent(t *testing.T) {
	var d pciDevice
	ok := parsePCIUevent([]byte("DRIVER=virtio-pci\nPCI_CLASS=20000\nPCI_ID=1AF4:1041\nPCI_SUBSYS_ID=1AF4:0D57\nPCI_SLOT_NAME=0000:00:03.0\nMODALIAS=pci:v00001AF4d00001041sv00001AF4sd00001041bc02sc00i00\n"), &d)
	if !ok || d.Class != "020000" || d.Vendor != "1af4" || d.Device != "1041" || d.SubVendor != "1af4" || d.SubDevice != "0d57" || d.Driver != "virtio-pci" {
		t.Errorf("uevent = %+v %v", d, ok)
	}
	for _, bad := range []string{"PCI_CLASS=20000\nPCI_ID=1AF4:1041\n", "PCI_CLASS=zz\nPCI_ID=1AF4:1041\nPCI_SUBSYS_ID=1AF4:1041\n",
		"PCI_CLASS=20000\nPCI_ID=1AF4-1041\nPCI_SUBSYS_ID=1AF4:1041\n", "PCI_CLASS=1000000\nPCI_ID=1AF4:1041\nPCI_SUBSYS_ID=1AF4:1041\n", ""} {
		if parsePCIUevent([]byte(bad), &pciDevice{}) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReadPCIDeviceMatchesAttributes: on this machine's bus, the uevent gives what the
// attribute files give.
func TestReadPCIDeviceMatchesAttributes(t *testing.T) {
	entries, err := readDir(pciDir)
	if err != nil {
		t.Skip("no PCI bus:", err)
	}
	for _, e := range entries {
		dir := filepath.Join(pciDir, e.Name())
		got := readPCIDevice(dir)
		hex := func(f string) string { return strings.TrimPrefix(readStr(filepath.Join(dir, f)), "0x") }
		want := pciDevice{Slot: e.Name(), Dir: dir, Class: hex("class"), Vendor: hex("vendor"), Device: hex("device"),
			SubVendor: hex("subsystem_vendor"), SubDevice: hex("subsystem_device"), Revision: hex("revision")}
		if l, err := os.Readlink(filepath.Join(dir, "driver")); err == nil {
			want.Driver = filepath.Base(l)
		}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", e.Name(), got, want)
		}
	}
}

// TestKernelThreadsHaveNoCmdline checks, on this machine, what the processes collector
// assumes to skip their reads.
func TestKernelThreadsHaveNoCmdline(t *testing.T) {
	entries, err := readDir("/proc")
	if err != nil {
		t.Skip(err)
	}
	seen := 0
	for _, e := range entries {
		st, err := readProcFile(filepath.Join("/proc", e.Name(), "stat"), nil)
		if err != nil {
			continue
		}
		p, ok := ParseProcStat(st)
		if !ok || p.flags&pfKthread == 0 {
			continue
		}
		seen++
		if cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && len(cl) > 0 {
			t.Errorf("kernel thread %s (%s) has a command line %q", e.Name(), p.comm, cl)
		}
	}
	t.Logf("%d kernel threads", seen)
}

func TestBlankLineIsTrimSpace(t *testing.T) {
	for _, line := range []string{"", " ", "\t \r", "Package: x", " continuation", "\u00a0", "\u00a0x", "\x85", "\v\f", "é", "\u2028 "} {
		if got, want := blankLine([]byte(line)), len(bytes.TrimSpace([]byte(line))) == 0; got != want {
			t.Errorf("blankLine(%q) = %v, want %v", line, got, want)
		}
	}
}
