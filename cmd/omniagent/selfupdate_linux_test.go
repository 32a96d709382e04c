//go:build linux

package main

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
	"github.com/omniagent/omniagent/selfupdate"
)

var (
	releaseMu  sync.Mutex
	releases   = map[string]string{}
	releaseDir string // shared by the tests, removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if releaseDir != "" {
		os.RemoveAll(releaseDir)
	}
	os.Exit(code)
}

// release builds this command stamped with version (and broken on purpose when asked).
func release(t *testing.T, version string, broken bool) string {
	t.Helper()
	releaseMu.Lock()
	defer releaseMu.Unlock()
	key := fmt.Sprint(version, broken)
	if p, ok := releases[key]; ok {
		return p
	}
	if releaseDir == "" {
		d, err := os.MkdirTemp("", "omniagent-releases-")
		if err != nil {
			t.Fatal(err)
		}
		releaseDir = d
	}
	out := filepath.Join(releaseDir, fmt.Sprintf("omniagent-%s-%v", version, broken))
	ld := "-X github.com/omniagent/omniagent/version.Version=" + version
	if broken {
		ld += " -X github.com/omniagent/omniagent/version.BrokenBuild=exit-at-start"
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "-ldflags", ld, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, b)
	}
	releases[key] = out
	return out
}

type updateRig struct {
	t      *testing.T
	dir    string
	exe    string
	cfg    string
	state  string
	fake   *ocofake.Server
	priv   ed25519.PrivateKey
	pubB64 string
}

const rigHost = "selfupdate-host"

func newUpdateRig(t *testing.T, running string) *updateRig {
	if testing.Short() {
		t.Skip("builds the agent three times: not in -short")
	}
	r := &updateRig{t: t, dir: t.TempDir()}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r.priv, r.pubB64 = priv, selfupdate.EncodePublicKey(pub, 0xA6E47)
	r.exe = filepath.Join(r.dir, "bin", "omniagent")
	os.MkdirAll(filepath.Dir(r.exe), 0o755)
	b, _ := os.ReadFile(release(t, running, false))
	os.WriteFile(r.exe, b, 0o755)
	r.state = filepath.Join(r.dir, "state")
	r.fake = ocofake.New(ocofake.Options{RegistrationKey: "reg", SelfRegistration: true})
	if err := r.fake.StartTLS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.fake.Close)
	ca := filepath.Join(r.dir, "ca.pem")
	r.fake.WriteCA(ca)
	r.writeConfig(fmt.Sprintf(`[[server]]
name = "oco"
protocol = "oco"
url = %q
ca_file = %q
registration_key = "reg"
interval = "2s"
allow_exec = true
`, r.fake.URL(), ca))
	return r
}

// writeConfig writes the agent's config: the update keys and the given servers.
func (r *updateRig) writeConfig(servers string) {
	r.cfg = filepath.Join(r.dir, "agent.toml")
	os.WriteFile(r.cfg, fmt.Appendf(nil, `[agent]
state_dir = %q
hostname = %q
splay = "0s"

[update]
public_keys = [%q]

%s`, r.state, rigHost, r.pubB64, servers), 0o600)
}

// signed returns release's bytes and their minisign signature by the rig's key.
func (r *updateRig) signed(release string) (bin, sig []byte) {
	bin, _ = os.ReadFile(release)
	sig, err := selfupdate.Sign(r.priv, 0xA6E47, bytes.NewReader(bin), "file:omniagent")
	if err != nil {
		r.t.Fatal(err)
	}
	return bin, sig
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, data := range files {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return zb.Bytes()
}

// offer makes the OCO server send a software job that installs release through
// `omniagent self-update`, as an administrator would package it.
func (r *updateRig) offer(release string) {
	bin, sig := r.signed(release)
	r.fake.AddPackage(1, zipOf(r.t, map[string][]byte{"omniagent": bin, "omniagent.minisig": sig}))
	r.fake.AddJob(ocofake.Job{ID: 1, ContainerID: 1, PackageID: 1, Hostname: rigHost, Download: true,
		Procedure: fmt.Sprintf("%s self-update omniagent --signature omniagent.minisig --config %s", r.exe, r.cfg)})
}

// start runs the daemon as a service manager would, with its log in a file.
func (r *updateRig) start() (*exec.Cmd, error) {
	logf, err := os.OpenFile(filepath.Join(r.dir, "daemon.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(r.exe, "run", "--config", r.cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	return cmd, cmd.Start()
}

func (r *updateRig) version() string {
	out, _ := exec.Command(r.exe, "version").Output()
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func (r *updateRig) marker() selfupdate.Marker {
	m, _, _ := selfupdate.ReadMarker(r.state)
	return m
}

// awaitConfirmed waits up to 90 s for the new binary to confirm its health; more adds to the
// failure message.
func (r *updateRig) awaitConfirmed(t *testing.T, more func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for r.marker().State != selfupdate.StateDone {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmed update after 90 s (marker %+v%s)\n%s", r.marker(), more(), r.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *updateRig) log() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "daemon.log"))
	return string(b)
}

func (r *updateRig) status() string {
	out, _ := exec.Command(r.exe, "status", "--config", r.cfg).CombinedOutput()
	return string(out)
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// A daemon of version A gets B through an OCO job, verifies and swaps it, re-executes itself
// into B (same process), and B confirms its health after its first cycle.
func TestSelfUpdateThroughOCOJob(t *testing.T) {
	r := newUpdateRig(t, "1.0.0")
	r.offer(release(t, "2.0.0", false))
	cmd, err := r.start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	r.awaitConfirmed(t, func() string { return "" })
	if v := r.version(); v != "2.0.0" {
		t.Fatalf("executable is %s after the update", v)
	}
	if cmd.ProcessState != nil {
		t.Fatal("the daemon exited instead of re-executing itself")
	}
	if j, _ := r.fake.Job(1); j.State != 3 {
		t.Fatalf("the self-update job ended in state %d: %s", j.State, j.Message)
	}
	if m := r.marker(); m.From != "1.0.0" || m.To != "2.0.0" || m.Attempts != 1 {
		t.Fatalf("marker %+v", m)
	}
	if s := r.status(); !strings.Contains(s, "updated 1.0.0 → 2.0.0") {
		t.Fatalf("status does not report the update:\n%s", s)
	}
	if prev, _ := exec.Command(r.exe+".previous", "version").Output(); !strings.Contains(string(prev), "1.0.0") {
		t.Fatalf("previous binary: %q", prev)
	}
}

// supervise restarts the daemon whenever it exits, as systemd's Restart= does.
type supervisor struct {
	mu      sync.Mutex
	cmd     *exec.Cmd
	exits   int
	stopped bool
	err     error
	done    chan struct{}
}

func (r *updateRig) supervise() *supervisor {
	s := &supervisor{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				return
			}
			cmd, err := r.start()
			if err != nil {
				s.err = err
				s.mu.Unlock()
				return
			}
			s.cmd = cmd
			s.mu.Unlock()
			cmd.Wait()
			s.mu.Lock()
			if !s.stopped {
				s.exits++
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *supervisor) stop() (int, error) {
	s.mu.Lock()
	s.stopped = true
	if s.cmd != nil {
		s.cmd.Process.Kill()
	}
	n := s.exits
	s.mu.Unlock()
	<-s.done
	return n, s.err
}

// B exits 1 at every start: after MaxAttempts starts (restarted as systemd's Restart= would),
// the next start restores A and runs it; status and the log report the failed update.
func TestSelfUpdateRollbackOfBrokenRelease(t *testing.T) {
	r := newUpdateRig(t, "1.0.0")
	r.offer(release(t, "2.0.0", true))
	sup := r.supervise()
	deadline := time.Now().Add(2 * time.Minute)
	for r.marker().State != selfupdate.StateRolledBack {
		if time.Now().After(deadline) {
			_, err := sup.stop()
			t.Logf("supervisor: %v", err)
			t.Fatalf("no rollback after 2 minutes (marker %+v)\n%s", r.marker(), r.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the restored A runs on: no more exits
	exits, err := sup.stop()
	if err != nil {
		t.Fatal(err)
	}
	if exits != selfupdate.MaxAttempts {
		t.Errorf("%d exits of the broken release, want %d (then the rollback)", exits, selfupdate.MaxAttempts)
	}
	if v := r.version(); v != "1.0.0" {
		t.Fatalf("executable is %s after the rollback", v)
	}
	if s := r.status(); !strings.Contains(s, "UPDATE FAILED") {
		t.Fatalf("status does not report the failed update:\n%s", s)
	}
	if !strings.Contains(r.log(), "AGENT UPDATE FAILED") {
		t.Fatalf("the rollback is not logged loudly:\n%s", r.log())
	}
}

// An RDFM server offers B as an omniagent release bundle: the agent installs it with the
// built-in updater (no install_command), restarts into B, and the server learns B's version.
func TestSelfUpdateThroughRDFM(t *testing.T) {
	r := newUpdateRig(t, "1.0.0")
	srv := rdfmfake.New()
	defer srv.Close()
	const mac = "aa:bb:cc:dd:ee:42"
	r.writeConfig(fmt.Sprintf(`[[server]]
name = "rdfm"
protocol = "rdfm"
url = %q
interval = "2s"
device_id = %q
software_version = "1.0.0"
retry_interval = "1s"
`, srv.URL, mac))
	bin, sig := r.signed(release(t, "2.0.0", false))
	srv.SetPackage(&rdfmfake.Package{ID: 7, Version: "2.0.0", Data: zipOf(t, map[string][]byte{
		"omniagent.manifest": []byte("rdfm.software.kind=omniagent\n"), "omniagent": bin, "omniagent.minisig": sig,
	})}, false)
	cmd, err := r.start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	deadline := time.Now().Add(90 * time.Second)
	for !srv.Accept(mac) {
		if time.Now().After(deadline) {
			t.Fatalf("the device never asked to register\n%s", r.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for r.marker().State != selfupdate.StateDone || srv.Metadata(mac)["rdfm.software.version"] != "2.0.0" {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmed update reported to RDFM after 90 s (marker %+v, metadata %v)\n%s", r.marker(), srv.Metadata(mac), r.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if v := r.version(); v != "2.0.0" {
		t.Fatalf("executable is %s", v)
	}
}

// A GLPI deploy job whose cmd action runs `omniagent self-update` on the package's files: the
// daemon installs B, restarts into it, and B confirms.
func TestSelfUpdateThroughGLPIDeploy(t *testing.T) {
	r := newUpdateRig(t, "1.0.0")
	f, err := glpifake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Set(func(s *glpifake.Server) { s.Plugin = true })
	bin, sig := r.signed(release(t, "2.0.0", false))
	f.AddJob("agent-update", nil, []map[string]any{
		{"cmd": map[string]any{"exec": fmt.Sprintf("%s self-update omniagent --signature omniagent.minisig --config %s", r.exe, r.cfg),
			"name": "update omniagent", "retChecks": []any{map[string]any{"type": "okCode", "values": []any{"0"}}}}},
	}, glpifake.File{Name: "omniagent", Data: bin, Parts: 2}, glpifake.File{Name: "omniagent.minisig", Data: sig})
	r.writeConfig(fmt.Sprintf(`[[server]]
name = "glpi"
protocol = "glpi"
url = %q
tasks = ["inventory", "deploy"]
allow_exec = true
`, f.URL+"/front/inventory.php"))
	cmd, err := r.start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	r.awaitConfirmed(t, func() string { return fmt.Sprintf(", job %q", f.JobState("agent-update")) })
	if v := r.version(); v != "2.0.0" {
		t.Fatalf("executable is %s", v)
	}
	if st := f.JobState("agent-update"); st != "ok" {
		t.Fatalf("deploy job state %q", st)
	}
}
