package collectors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestEnvVarsRedactSecrets(t *testing.T) {
	got := EnvVars([]string{"PATH=/usr/bin", "DB_PASSWORD=hunter2", "https_proxy=http://bob:s3cret@proxy:3128", "API_TOKEN=abc", "DB_PASS=x1", "EMPTY=", "=bad", "LANG=C.UTF-8"})
	want := map[string]string{"PATH": "/usr/bin", "DB_PASSWORD": redacted, "DB_PASS": redacted, "API_TOKEN": redacted, "EMPTY": "", "LANG": "C.UTF-8"}
	if len(got) != 7 {
		t.Fatalf("got %+v", got)
	}
	for _, e := range got {
		if w, ok := want[e.Key]; ok && e.Value != w {
			t.Errorf("%s = %q, want %q", e.Key, e.Value, w)
		}
		if strings.Contains(e.Value, "s3cret") || strings.Contains(e.Value, "hunter2") {
			t.Errorf("secret leaked: %s=%s", e.Key, e.Value)
		}
	}
	if got[len(got)-1].Key != "https_proxy" || !strings.HasPrefix(got[len(got)-1].Value, "http://bob:") {
		t.Errorf("proxy = %+v (sorted last, user kept)", got[len(got)-1])
	}
}

// Config files as the tools write them (TeamViewer 15 global.conf, AnyDesk 6 system.conf,
// RustDesk 1.2 RustDesk.toml), in a fake root.
func TestRemoteMgmtFromConfigFiles(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/teamviewer/global.conf", "TeamViewer Global Settings\n\n[int32] Always_Online = 1\n[int32] ClientID = 1234567890\n[strng] Version = \"15.49.2\"\n")
	write("etc/anydesk/system.conf", "ad.anynet.alias=\nad.anynet.id=987654321\nad.anynet.fpr=0a1b\n")
	write("home/alice/.config/rustdesk/RustDesk.toml", "enc_id = '00abc'\npassword = ''\nsalt = 'x'\nid = '135792468'\n")
	write("root/.config/rustdesk/RustDesk.toml", "enc_id = 'only-encrypted'\n")
	got := readRemoteMgmt(root, linuxRemoteConfigs)
	want := map[string]string{"teamviewer": "1234567890", "anydesk": "987654321", "rustdesk": "135792468"}
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	for _, r := range got {
		if want[r.Type] != r.ID {
			t.Errorf("%s id = %q, want %q", r.Type, r.ID, want[r.Type])
		}
		if r.Type == "teamviewer" && r.Version != "15.49.2" {
			t.Errorf("teamviewer version %q", r.Version)
		}
	}
}

func TestParseMySQLHandshakeAndRedisInfo(t *testing.T) {
	// MariaDB 10.11 greeting: length 0x6e, seq 0, protocol 10, version, NUL, thread id...
	greet := append([]byte{0x6e, 0, 0, 0, 0x0a}, []byte("5.5.5-10.11.6-MariaDB-0+deb12u1\x00\x2a\x00\x00\x00")...)
	if v, err := ParseMySQLHandshake(greet); err != nil || v != "5.5.5-10.11.6-MariaDB-0+deb12u1" {
		t.Errorf("handshake = %q %v", v, err)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, {5, 0, 0, 0, 0xff, 'x'}, {5, 0, 0, 0, 0x0a, 'x'}} {
		if _, err := ParseMySQLHandshake(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if v, err := ParseRedisInfo([]byte("$120\r\n# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n")); err != nil || v != "7.0.15" {
		t.Errorf("redis = %q %v", v, err)
	}
	if _, err := ParseRedisInfo([]byte("-NOAUTH Authentication required.\r\n")); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("NOAUTH: %v", err)
	}
}

func TestDpkgVersionAndUpstream(t *testing.T) {
	status := []byte("Package: redis-server\nStatus: install ok installed\nVersion: 5:7.0.15-1~deb12u1\n\nPackage: mariadb-server\nStatus: deinstall ok config-files\nVersion: 1:10.11.6-0+deb12u1\n\nPackage: postgresql-15\nStatus: install ok installed\nArchitecture: amd64\nVersion: 15.14-0+deb12u1\n")
	for pkg, want := range map[string]string{"redis-server": "7.0.15", "mariadb-server": "", "postgresql-15": "15.14", "postgresql": ""} {
		if got := upstreamVersion(dpkgVersion(status, pkg)); got != want {
			t.Errorf("%s = %q, want %q", pkg, got, want)
		}
	}
}

func TestDpkgVersionsStreamed(t *testing.T) {
	status := "Package: redis-server\nStatus: install ok installed\nVersion: 5:7.0.15-1~deb12u1\n\n\n" +
		"Package: libc6\nStatus: deinstall ok config-files\nVersion: 2.35\nDescription: d\n Package: mariadb-server\nOriginal-Package: mysql-server\n\n" +
		"Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n" +
		"Package: postgresql-15\nStatus: install ok installed\nDescription: x\n Version: not this\nVersion: 15.14-0+deb12u1"
	want := map[string]string{"redis-server": "5:7.0.15-1~deb12u1", "libc6": "", "postgresql-15": "15.14-0+deb12u1"}
	got := dpkgVersions(iotest.OneByteReader(strings.NewReader(status)), func([]byte) bool { return true })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("versions = %v, want %v", got, want)
	}
	if got := dpkgVersions(strings.NewReader(status), func(p []byte) bool { return string(p) == "libc6" }); len(got) != 1 {
		t.Errorf("want filters: %v", got)
	}
}

func TestListeningPorts(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 23456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:18EB 01 00000000:00000000 00:00000000 00000000     0        0 34567 1 0000000000000000 20 4 30 10 -1
`
	got := listeningPorts(tcp)
	if len(got) != 1 || got["23456"] != 6379 {
		t.Errorf("ports = %v", got)
	}
}

func TestCPUSetAndByteSize(t *testing.T) {
	if n := cpusetCount("0-3,6, 8-9"); n != 7 {
		t.Errorf("cpuset = %d", n)
	}
	if n := cpusetCount("x,3-1"); n != 0 {
		t.Errorf("bad cpuset = %d", n)
	}
	if b := parseByteSize("512M"); b != 512<<20 {
		t.Errorf("512M = %d", b)
	}
}

func TestParseLVMConfigBadInput(t *testing.T) {
	for _, s := range []string{"", "a {", "}", "a = [", "a = \"x", "a", strings.Repeat("a {", 100), "a = [[1]]"} {
		_, _ = ParseLVMConfig([]byte(s)) // must not panic
	}
	m, err := ParseLVMConfig([]byte("vg { id = \"x\" # comment\n extent_size = 8192 status = [\"READ\", \"WRITE\"] pv { a = 1.5 } }"))
	if err != nil {
		t.Fatal(err)
	}
	vg := m["vg"].(map[string]any)
	if vg["id"] != "x" || vg["extent_size"] != int64(8192) || !hasFlag(vg["status"], "WRITE") {
		t.Errorf("parsed %v", vg)
	}
}

func FuzzParseLVMConfig(f *testing.F) {
	f.Add([]byte("vg { id = \"x\" physical_volumes { pv0 { pe_count = 4 } } }"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseLVMConfig(b) })
}

func FuzzReadLVMMetadata(f *testing.F) {
	label := make([]byte, 2048)
	copy(label[512:], "LABELONE")
	copy(label[512+24:], "LVM2 001")
	label[512+20] = 32
	f.Add(label)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ReadLVMMetadata(bytes.NewReader(b)); err == nil && m != nil {
			_ = LVMFromMetadata([]lvmPV{{Device: "/dev/x", Meta: m}}, nil)
		}
	})
}
