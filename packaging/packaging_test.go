package packaging

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestSystemdUnitRender(t *testing.T) {
	def, err := SystemdUnit(LinuxBinary, []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if def != SystemdUnitFile() {
		t.Fatal("rendering the default must give the shipped unit")
	}
	got, err := SystemdUnit("/opt/omni agent/omniagent", []string{"run", "--config", "/etc/o%/a$b.toml"})
	if err != nil {
		t.Fatal(err)
	}
	want := `ExecStart="/opt/omni agent/omniagent" run --config /etc/o%%/a$$b.toml` + "\n"
	if !strings.Contains(got, want) {
		t.Fatalf("want line %q in\n%s", want, got)
	}
	if _, err := SystemdUnit(LinuxBinary, []string{"a\nb"}); err == nil {
		t.Fatal("newline in argument accepted")
	}
	for _, line := range []string{"After=network-online.target", "Wants=network-online.target", "TimeoutStopSec=30", "Restart=on-failure", "WantedBy=multi-user.target"} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("unit lacks %q", line)
		}
	}
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit not verified")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "omniagent")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := SystemdUnit(exe, []string{"run", "--config", "/etc/omniagent/agent.toml"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "omniagent.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", path).CombinedOutput()
	// Outside a booted systemd (containers) verify still parses the unit; only fail on messages
	// about our file.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "omniagent.service") {
			t.Errorf("systemd-analyze: %s", l)
		}
	}
	if err != nil && !strings.Contains(string(out), "omniagent.service") {
		t.Logf("systemd-analyze exited %v (not about our unit): %s", err, out)
	}
}

func TestLaunchdPlist(t *testing.T) {
	got, err := LaunchdPlist("/usr/local/bin/omni&agent", []string{"run", "--config", "/Library/A <b>.toml"})
	if err != nil {
		t.Fatal(err)
	}
	type plist struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Value   string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	var p plist
	d := xml.NewDecoder(strings.NewReader(got))
	d.Strict = true
	if err := d.Decode(&p); err != nil {
		t.Fatalf("plist is not XML: %v", err)
	}
	kv := map[string]string{}
	var args []string
	items := p.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("item %d is %s, want key", i, items[i].XMLName.Local)
		}
		v := items[i+1]
		kv[items[i].Value] = v.XMLName.Local + ":" + v.Value
		if items[i].Value == "ProgramArguments" {
			args = v.Strings
		}
	}
	for k, want := range map[string]string{"Label": "string:omniagent", "RunAtLoad": "true:", "KeepAlive": "true:"} {
		if kv[k] != want {
			t.Errorf("%s = %q, want %q", k, kv[k], want)
		}
	}
	wantArgs := []string{"/usr/local/bin/omni&agent", "run", "--config", "/Library/A <b>.toml"}
	if strings.Join(args, "|") != strings.Join(wantArgs, "|") {
		t.Errorf("ProgramArguments = %q, want %q", args, wantArgs)
	}
}

// TestDeb builds the .deb for the host arch with nfpm and checks it with dpkg-deb, then unpacks
// it into a throwaway root and runs the unpacked binary.
func TestDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building a package")
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dpkg-deb not installed")
		}
		t.Skip("dpkg-deb not installed: .deb not checked")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "omniagent")
	run(t, root, nil, "go", "build", "-trimpath", "-tags", "nethttpomithttp2", "-o", bin, "./cmd/omniagent") // as release.sh
	example := filepath.Join(root, "agent.toml.example")
	if _, err := os.Stat(example); err != nil {
		t.Logf("no %s yet: packaging config.Default() output instead", example)
		example = filepath.Join(dir, "agent.toml")
		if err := os.WriteFile(example, []byte("[agent]\nlog_level = \"info\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(root, "packaging", "nfpm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("${BINARY}", bin, "${EXAMPLE_CONFIG}", example).Replace(string(cfg))
	yaml := filepath.Join(dir, "nfpm.yaml")
	if err := os.WriteFile(yaml, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "omniagent.deb")
	run(t, root, []string{"ARCH=" + runtime.GOARCH, "VERSION=1.2.3", "SOURCE_DATE_EPOCH=1700000000"}, "go", "tool", "nfpm", "package", "-f", yaml, "-p", "deb", "-t", deb)

	// Same inputs and SOURCE_DATE_EPOCH: byte-identical package (make dist relies on it).
	deb2 := filepath.Join(dir, "omniagent2.deb")
	run(t, root, []string{"ARCH=" + runtime.GOARCH, "VERSION=1.2.3", "SOURCE_DATE_EPOCH=1700000000"}, "go", "tool", "nfpm", "package", "-f", yaml, "-p", "deb", "-t", deb2)
	b1, err1 := os.ReadFile(deb)
	b2, err2 := os.ReadFile(deb2)
	if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
		t.Errorf("two builds of the .deb differ (%v, %v)", err1, err2)
	}

	info := run(t, dir, nil, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture")
	for _, want := range []string{"Package: omniagent", "Version: 1.2.3", "Architecture: " + runtime.GOARCH} {
		if !strings.Contains(info, want) {
			t.Errorf("control lacks %q:\n%s", want, info)
		}
	}
	list := run(t, dir, nil, "dpkg-deb", "-c", deb)
	modes := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if f := strings.Fields(l); len(f) >= 6 {
			modes[strings.TrimSuffix(f[len(f)-1], "/")] = f[0] + " " + f[1]
		}
	}
	for path, want := range map[string]string{
		"./usr/bin/omniagent":                        "-rwxr-xr-x root/root",
		"./usr/lib/systemd/system/omniagent.service": "-rw-r--r-- root/root",
		"./etc/omniagent/agent.toml":                 "-rw------- root/root",
		"./var/lib/omniagent":                        "drwx------ root/root",
	} {
		if modes[path] != want {
			t.Errorf("%s: %q, want %q\n%s", path, modes[path], want, list)
		}
	}
	ctl := filepath.Join(dir, "control")
	run(t, dir, nil, "dpkg-deb", "-e", deb, ctl)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(ctl, name))
		if err != nil {
			t.Fatalf("control member %s: %v", name, err)
		}
		return string(b)
	}
	if got := strings.TrimSpace(read("conffiles")); got != "/etc/omniagent/agent.toml" {
		t.Errorf("conffiles = %q", got)
	}
	for name, want := range map[string]string{"postinst": "systemctl enable omniagent.service", "prerm": "systemctl stop omniagent.service", "postrm": "daemon-reload"} {
		if s := read(name); !strings.Contains(s, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, s)
		}
	}

	// Install into a throwaway root and run what was unpacked.
	fsroot := filepath.Join(dir, "root")
	run(t, dir, nil, "dpkg", "-x", deb, fsroot)
	unit, err := os.ReadFile(filepath.Join(fsroot, "usr/lib/systemd/system/omniagent.service"))
	if err != nil || string(unit) != SystemdUnitFile() {
		t.Errorf("packaged unit differs from the embedded one (%v)", err)
	}
	ubin := filepath.Join(fsroot, "usr/bin/omniagent")
	ucfg := filepath.Join(fsroot, "etc/omniagent/agent.toml")
	run(t, dir, nil, ubin, "config", "check", ucfg)
	state := filepath.Join(dir, "state")
	cfgWithState := filepath.Join(dir, "oneshot.toml")
	if err := os.WriteFile(cfgWithState, []byte("[agent]\nstate_dir = \""+state+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(t, dir, nil, ubin, "--oneshot", "--config", cfgWithState); !strings.Contains(out, "inventory only") {
		t.Errorf("--oneshot output:\n%s", out)
	}

	t.Run("rpm", func(t *testing.T) {
		if _, err := exec.LookPath("rpm"); err != nil {
			t.Skip("rpm not installed: .rpm not checked")
		}
		rpm := filepath.Join(dir, "omniagent.rpm")
		run(t, root, []string{"ARCH=" + runtime.GOARCH, "VERSION=1.2.3", "SOURCE_DATE_EPOCH=1700000000"}, "go", "tool", "nfpm", "package", "-f", yaml, "-p", "rpm", "-t", rpm)
		rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
		if got := run(t, dir, nil, "rpm", "-qp", "--queryformat", "%{NAME} %{VERSION} %{ARCH}", rpm); got != "omniagent 1.2.3 "+rpmArch {
			t.Errorf("rpm header %q", got)
		}
		if got := strings.TrimSpace(run(t, dir, nil, "rpm", "-qp", "--configfiles", rpm)); got != "/etc/omniagent/agent.toml" {
			t.Errorf("config files %q", got)
		}
		// %config(noreplace): the admin's edited config survives upgrades.
		if got := run(t, dir, nil, "rpm", "-qp", "--queryformat", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpm); !strings.Contains(got, "/etc/omniagent/agent.toml cn") {
			t.Errorf("agent.toml is not config(noreplace):\n%s", got)
		}
		list := run(t, dir, nil, "rpm", "-qplv", rpm)
		for _, want := range []string{"-rwxr-xr-x", "/usr/bin/omniagent", "/usr/lib/systemd/system/omniagent.service", "drwx------"} {
			if !strings.Contains(list, want) {
				t.Errorf("rpm contents lack %q:\n%s", want, list)
			}
		}
		scripts := run(t, dir, nil, "rpm", "-qp", "--scripts", rpm)
		for _, want := range []string{"postinstall scriptlet", "systemctl enable omniagent.service", "preuninstall scriptlet", "systemctl stop omniagent.service", "postuninstall scriptlet"} {
			if !strings.Contains(scripts, want) {
				t.Errorf("rpm scripts lack %q", want)
			}
		}
	})
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestShellScriptsParse(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	files, _ := filepath.Glob("scripts/*.sh")
	more, _ := filepath.Glob("darwin/*.sh")
	vm, _ := filepath.Glob("vmtest/*.sh")
	files = append(append(append(files, more...), vm...), "release.sh")
	if len(files) < 9 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
		if fi, err := os.Stat(f); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", f)
		}
	}
}

func TestWixSourceIsXML(t *testing.T) {
	b, err := os.ReadFile("windows/omniagent.wxs")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Product struct {
			Name        string `xml:",attr"`
			UpgradeCode string `xml:",attr"`
		}
	}
	if err := xml.Unmarshal(b, &v); err != nil {
		t.Fatalf("omniagent.wxs: %v", err)
	}
	if v.Product.Name != "omniagent" || v.Product.UpgradeCode == "" {
		t.Errorf("product %+v", v.Product)
	}
	if !strings.Contains(string(b), `<ServiceInstall Id="Service" Name="omniagent"`) {
		t.Error("the MSI does not register the service")
	}
}

// TestReleaseSigning runs release.sh for one target with MINISIGN_KEY: the bare binary is
// published with a signature that the minisign tool verifies, listed in SHA256SUMS.
func TestReleaseSigning(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building a release")
	}
	minisign, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("minisign not installed (Debian package minisign; .ci/run installs it)")
		}
		t.Skip("minisign not installed: release signing not checked")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, sec := filepath.Join(dir, "release.pub"), filepath.Join(dir, "release.key")
	if out, err := exec.Command(minisign, "-G", "-W", "-p", pub, "-s", sec).CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v: %s", err, out)
	}
	dist := filepath.Join(dir, "dist")
	cmd := exec.Command("sh", "packaging/release.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DIST="+dist, "TARGETS=darwin/arm64", "VERSION=9.8.7", "MINISIGN_KEY="+sec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v: %s", err, out)
	}
	bin := filepath.Join(dist, "omniagent-9.8.7-darwin-arm64")
	if out, err := exec.Command(minisign, "-V", "-p", pub, "-m", bin).CombinedOutput(); err != nil {
		t.Fatalf("minisign -V rejects the release signature: %v: %s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sums), "omniagent-9.8.7-darwin-arm64.minisig") {
		t.Fatalf("SHA256SUMS does not list the signature:\n%s", sums)
	}
}
