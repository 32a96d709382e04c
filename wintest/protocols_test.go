package wintest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
)

// hostname is what the Windows agent calls itself towards the fakes.
const hostname = "wine-pc"

// writeConfig writes an agent config for a --oneshot run (Windows paths through Z:).
func (w *wine) writeConfig(t *testing.T, name, jobsTOML, serverTOML string) string {
	t.Helper()
	dir := filepath.Join(w.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[agent]\nstate_dir = %q\nhostname = %q\nsplay = \"0s\"\n\n[jobs]\n%s\n[[server]]\n%s",
		winPath(filepath.Join(dir, "state")), hostname, jobsTOML, serverTOML)
	p := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// oneshot runs `omniagent.exe run --oneshot --force-update` with a config.
func (w *wine) oneshot(t *testing.T, cfg string) result {
	t.Helper()
	return w.agent(t, 3*time.Minute, "run", "--oneshot", "--force-update", "--config", winPath(cfg))
}

// processesMatching lists the Linux processes whose command line contains every one of subs
// (Wine shows a Windows program's command line, e.g. Z:\tmp\dir\sleeper.exe 300).
func processesMatching(subs ...string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		line := strings.ReplaceAll(string(b), "\x00", " ")
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			out = append(out, e.Name()+": "+line)
		}
	}
	return out
}

func TestOCO(t *testing.T) {
	w := need(t)
	gcc, err := lookTool("x86_64-w64-mingw32-gcc")
	if err != nil {
		t.Fatal(err)
	}
	sleeper := filepath.Join(w.dir, "sleeper.exe")
	if out, err := exec.Command(gcc, "-O2", "-o", sleeper, "testdata/sleeper.c").CombinedOutput(); err != nil {
		t.Fatalf("build sleeper.exe: %v\n%s", err, out)
	}
	marker := filepath.Join(w.dir, "background-child-started")
	f := ocofake.New(ocofake.Options{RegistrationKey: "wine-reg-key", SelfRegistration: true})
	if err := f.StartTLS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ca := filepath.Join(w.dir, "oco-ca.pem")
	if err := f.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	// Through cmd.exe: output, a non-zero exit code the package declares a success.
	f.AddJob(ocofake.Job{ID: 1, ContainerID: 1, Hostname: hostname, Procedure: "echo omniagent-under-wine& ver& exit /b 3", SuccessCodes: "3"})
	// A child in the background and one in the foreground, both far longer than the timeout.
	f.AddJob(ocofake.Job{ID: 2, ContainerID: 2, Hostname: hostname,
		Procedure: fmt.Sprintf(`start "" /b %s 300 %s& %s 300`, winPath(sleeper), winPath(marker), winPath(sleeper))})
	cfg := w.writeConfig(t, "oco", `allow_exec = true
timeout = "5s"
`, fmt.Sprintf(`name = "oco"
protocol = "oco"
url = %q
ca_file = %q
registration_key = "wine-reg-key"
`, f.URL(), winPath(ca)))
	// Watch the job's sleepers while the cycle runs, so "none left" below is not vacuous.
	ours := []string{filepath.Base(w.dir), "sleeper.exe"}
	seen, stop := make(chan int, 1), make(chan struct{})
	go func() {
		most := 0
		for {
			most = max(most, len(processesMatching(ours...)))
			select {
			case <-stop:
				seen <- most
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	r := w.oneshot(t, cfg)
	close(stop)
	if most := <-seen; most < 2 {
		t.Errorf("saw %d sleeper processes during the job, want both (the background child and the foreground one)", most)
	}
	t.Logf("oneshot took %s:\n%s%s", time.Since(start).Round(time.Millisecond), r.stdout, r.stderr)
	// The cycle fails (exit 1) because job 2 does: that is the point of job 2.
	if c, ok := f.Computer(hostname); !ok || c.Inventory == nil || c.AgentKey == "" {
		t.Errorf("OCO cycle did not register and send the inventory (exit %d): %+v", r.code, c)
	}
	if errs := f.SchemaErrors(); len(errs) > 0 {
		t.Errorf("the Windows inventory has fields of the wrong type for OCO: %v", errs)
	}
	j1, _ := f.Job(1)
	if j1.State != 3 || j1.ReturnCode == nil || *j1.ReturnCode != 3 || !strings.Contains(j1.Message, "omniagent-under-wine") || !strings.Contains(j1.Message, "Windows") {
		t.Errorf("cmd.exe job: state %d, return code %v, output %q (want 3, 3, the echo and ver)", j1.State, j1.ReturnCode, j1.Message)
	}
	j2, _ := f.Job(2)
	if j2.State != -1 || !strings.Contains(j2.Message, "timed out") {
		t.Errorf("timed-out job: state %d, output %q (want -1 and a time-out message)", j2.State, j2.Message)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the background child never started: %v", err)
	}
	// The Job Object's kill reached the background child too: no sleeper.exe is left.
	deadline := time.Now().Add(10 * time.Second)
	for left := processesMatching(ours...); len(left) > 0; left = processesMatching(ours...) {
		if time.Now().After(deadline) {
			t.Errorf("processes of the timed-out job still run (the tree was not killed):\n%s", strings.Join(left, "\n"))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestGLPI(t *testing.T) {
	w := need(t)
	f, err := glpifake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Set(func(s *glpifake.Server) { s.Plugin = true })
	f.AddJob("wine-job", nil, []map[string]any{
		{"cmd": map[string]any{"exec": "echo deploy-under-wine& exit /b 0", "name": "run through cmd.exe",
			"retChecks": []any{map[string]any{"type": "okCode", "values": []any{"0"}}}}},
	})
	cfg := w.writeConfig(t, "glpi", "allow_exec = true\n", fmt.Sprintf(`name = "glpi"
protocol = "glpi"
url = %q
allow_exec = true
tasks = ["inventory", "deploy"]
`, f.URL+"/front/inventory.php"))
	r := w.oneshot(t, cfg)
	t.Logf("oneshot:\n%s%s", r.stdout, r.stderr)
	var got []glpifake.Inventory
	var rejected []string
	f.Get(func(s *glpifake.Server) { got, rejected = s.Inventories, s.Rejected })
	if len(rejected) > 0 {
		t.Errorf("the fake's schema check refused the Windows inventory: %v", rejected)
	}
	if len(got) == 0 {
		t.Fatalf("no inventory reached the GLPI fake (exit %d)", r.code)
	}
	if hw, _ := got[0].Content["operatingsystem"].(map[string]any); hw == nil || !strings.Contains(fmt.Sprint(hw["full_name"]), "Windows") {
		t.Errorf("inventory operatingsystem %v", got[0].Content["operatingsystem"])
	}
	if st := f.JobState("wine-job"); st != "ok" {
		var msgs []string
		for _, q := range f.JobStatuses("wine-job") {
			msgs = append(msgs, q.Get("status")+"|"+q.Get("currentStep")+"|"+q.Get("msg"))
		}
		t.Errorf("deploy cmd job state %q:\n%s", st, strings.Join(msgs, "\n"))
	}
}

func TestJumpCloud(t *testing.T) {
	w := need(t)
	const sysID = "0123456789abcdef01234567"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := jcfake.New(jcfake.Options{})
	f.Start()
	defer f.Close()
	f.AddSystem(&jcfake.System{ID: sysID, Pub: &key.PublicKey, Hostname: hostname, DisplayName: "old-name"})
	dir := filepath.Join(w.dir, "jc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "client.key")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyPath, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "jcagent.conf")
	jc := fmt.Sprintf(`{"agentServerHost":"agent.jumpcloud.com","agentServerPort":443,"clientKey":%q,"systemKey":%q,"tls":true}`, winPath(keyPath), sysID)
	if err := os.WriteFile(conf, []byte(jc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := w.writeConfig(t, "jc", "", fmt.Sprintf(`name = "jc"
protocol = "jumpcloud"
url = %q
jcagent_conf = %q
display_name = "{{.Hostname}}-wine"
`, f.URL(), winPath(conf)))
	r := w.oneshot(t, cfg)
	t.Logf("oneshot:\n%s%s", r.stdout, r.stderr)
	v := f.Inspect(sysID)
	for _, e := range v.Log {
		if e.Status == 401 {
			t.Errorf("the fake refused a signature: %s %s: %s", e.Method, e.Target, e.Reason)
		}
	}
	if r.code != 0 {
		t.Errorf("oneshot exit %d", r.code)
	}
	if v.System == nil || v.System.DisplayName != hostname+"-wine" {
		t.Errorf("system not updated through signed requests: %+v", v.System)
	}
}

func TestRDFM(t *testing.T) {
	w := need(t)
	f := rdfmfake.New()
	defer f.Close()
	// device_id: the MAC the fake accepts, independent of the adapters Wine reports.
	const mac = "aa:bb:cc:dd:ee:21"
	cfg := w.writeConfig(t, "rdfm", "", fmt.Sprintf(`name = "rdfm"
protocol = "rdfm"
url = %q
device_id = %q
software_version = "1.0"
device_type = "omniagent-windows-amd64"
`, f.URL, mac))
	// First contact: the key is generated and the registration waits for an administrator.
	r := w.oneshot(t, cfg)
	t.Logf("first oneshot (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	if !f.Accept(mac) {
		t.Fatalf("no pending registration for %s: %v", mac, f.Pending())
	}
	r = w.oneshot(t, cfg)
	t.Logf("second oneshot (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 || !strings.Contains(r.stdout, "no update") {
		t.Errorf("accepted device's cycle: exit %d, want 0 and \"no update\"", r.code)
	}
	md := f.Metadata(mac)
	if md["rdfm.software.version"] != "1.0" || md["rdfm.hardware.devtype"] != "omniagent-windows-amd64" {
		t.Errorf("metadata sent at auth: %v", md)
	}
}
