package glpi_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

func deployEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the deploy scripts here are POSIX shell")
	}
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.Plugin = true })
	return e, t.TempDir()
}

func statusMsgs(e *testEnv, uuid string) []string {
	var out []string
	for _, q := range e.fake.JobStatuses(uuid) {
		out = append(out, q.Get("status")+"|"+q.Get("currentStep")+"|"+q.Get("msg"))
	}
	return out
}

// TestDeployTwoPartFile: a job with a file in two gzip parts (sha512 per part and for the
// whole), a cmd action with retChecks, mkdir and copy into an allowed root, reported with the
// exact end string; the job is not run again.
func TestDeployTwoPartFile(t *testing.T) {
	e, root := deployEnv(t)
	payload := bytes.Repeat([]byte("omniagent deploy payload\n"), 4000)
	e.fake.AddJob("job1",
		[]map[string]any{{"name": "need 1MB", "type": "freespaceGreater", "path": os.TempDir(), "value": "1", "return": "error"},
			{"name": "marker absent", "type": "fileMissing", "path": filepath.Join(root, "marker"), "value": "", "return": "skip"}},
		[]map[string]any{
			{"cmd": map[string]any{"exec": "wc -c < payload.bin; cat install.sh > /dev/null; echo done", "name": "run installer", "logLineLimit": "10",
				"retChecks": []any{map[string]any{"type": "okCode", "values": []any{"0"}}, map[string]any{"type": "errorPattern", "values": []any{"FATAL"}}}}},
			{"mkdir": map[string]any{"list": []any{filepath.Join(root, "omni-dir")}, "name": "mk"}},
			{"copy": map[string]any{"from": "payload.bin", "to": filepath.Join(root, "omni-dir") + "/", "name": "cp"}},
		},
		glpifake.File{Name: "payload.bin", Data: payload, Parts: 2},
		glpifake.File{Name: "install.sh", Data: []byte("echo hi\n"), Parts: 1},
	)
	a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.DeployFileRoots = []string{root} })
	res, err := cycle(t, a)
	if err != nil {
		t.Fatalf("%v (statuses %q)", err, statusMsgs(e, "job1"))
	}
	if st := e.fake.JobState("job1"); st != "ok" {
		t.Fatalf("job state %s: %q", st, statusMsgs(e, "job1"))
	}
	got, err := os.ReadFile(filepath.Join(root, "omni-dir", "payload.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("copied payload: %v (%d bytes)", err, len(got))
	}
	msgs := strings.Join(statusMsgs(e, "job1"), "\n")
	for _, want := range []string{"|checking|starting", "ok|checking|all checks are ok", "|downloading|fetching payload.bin", "ok|downloading|payload.bin downloaded", "ok|prepare|success", "|processing|100000", "ok|processing|run installer, processing success", "ok||job successfully completed"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("status sequence lacks %q:\n%s", want, msgs)
		}
	}
	if !strings.Contains(res.Summary, "1 job(s) done") {
		t.Errorf("summary %q", res.Summary)
	}
	// The deploy poll follows configValidityPeriod (600 s), not the 24 h CONTACT.
	if res.Next != 600*time.Second {
		t.Errorf("next = %s, want 10m", res.Next)
	}
	n := len(e.fake.JobStatuses("job1"))
	e.clock.Advance(11 * time.Minute)
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.JobStatuses("job1")) != n {
		t.Error("finished job run again")
	}
	var reqs []string
	e.fake.Get(func(s *glpifake.Server) { reqs = s.Requests })
	polls := 0
	for _, r := range reqs {
		if strings.Contains(r, "action=getConfig") {
			polls++
		}
	}
	if polls != 2 {
		t.Errorf("getConfig polls = %d, want 2", polls)
	}
}

// TestDeployFailedChecksum: a corrupt part fails the sha512 check; the job is reported ko and
// nothing runs.
func TestDeployFailedChecksum(t *testing.T) {
	e, root := deployEnv(t)
	keys := e.fake.AddJob("job2", nil,
		[]map[string]any{{"cmd": map[string]any{"exec": "touch " + filepath.Join(root, "ran"), "name": "should not run"}}},
		glpifake.File{Name: "payload.bin", Data: bytes.Repeat([]byte("x"), 5000), Parts: 2})
	parts := e.fake.PartIDs(keys[0])
	e.fake.Set(func(s *glpifake.Server) { s.CorruptPart = parts[1] })
	a := e.adapter(nil)
	_, err := cycle(t, a)
	if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("err = %v", err)
	}
	if st := e.fake.JobState("job2"); st != "ko" {
		t.Errorf("job state %s: %q", st, statusMsgs(e, "job2"))
	}
	if _, err := os.Stat(filepath.Join(root, "ran")); err == nil {
		t.Error("action ran after a failed checksum")
	}
}

// TestDeployFailingAction: a cmd whose exit code is not ok fails the job with status ko and
// stops the following actions; a move outside the allowed roots is refused.
func TestDeployFailingAction(t *testing.T) {
	e, root := deployEnv(t)
	e.fake.AddJob("job3", nil, []map[string]any{
		{"cmd": map[string]any{"exec": "echo FATAL oops; exit 3", "name": "bad", "retChecks": []any{map[string]any{"type": "okCode", "values": []any{"0"}}}}},
		{"mkdir": map[string]any{"list": []any{filepath.Join(root, "after")}}},
	})
	e.fake.AddJob("job4", nil, []map[string]any{
		{"mkdir": map[string]any{"list": []any{"/etc/omniagent-test-must-not-exist"}}},
	})
	if err := os.WriteFile(filepath.Join(root, "present"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.fake.AddJob("job5", []map[string]any{{"name": "skip me", "type": "fileMissing", "path": filepath.Join(root, "present"), "return": "skip"}}, []map[string]any{
		{"mkdir": map[string]any{"list": []any{filepath.Join(root, "skipped")}}},
	})
	e.fake.AddJob("job6", nil, []map[string]any{{"reboot": map[string]any{}}})
	a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.DeployFileRoots = []string{root} })
	_, err := cycle(t, a)
	if err == nil {
		t.Fatal("no error")
	}
	// The exchanges worked; only jobs failed: the scheduler shows "ok, 3 jobs failed".
	if n, only := protocols.SplitJobFailures(err); !only || n != 3 {
		t.Errorf("SplitJobFailures = %d, %v; want 3 job failures only (%v)", n, only, err)
	}
	// `omniagent status` sees both sub-schedules: the 24 h contact and the deploy poll.
	if sched := a.Status().Schedule; sched["contact/inventory"].IsZero() || sched["deploy poll"].IsZero() {
		t.Errorf("status schedule = %v", sched)
	}
	if st := e.fake.JobState("job3"); st != "ko" {
		t.Errorf("job3 %s: %q", st, statusMsgs(e, "job3"))
	}
	if !strings.Contains(strings.Join(statusMsgs(e, "job3"), "\n"), "FATAL oops") {
		t.Errorf("output not reported: %q", statusMsgs(e, "job3"))
	}
	if _, err := os.Stat(filepath.Join(root, "after")); err == nil {
		t.Error("action after a failed one ran")
	}
	if st := e.fake.JobState("job4"); st != "ko" || !strings.Contains(strings.Join(statusMsgs(e, "job4"), "\n"), "outside the job folder") {
		t.Errorf("job4 %s: %q", st, statusMsgs(e, "job4"))
	}
	if _, err := os.Stat("/etc/omniagent-test-must-not-exist"); err == nil {
		t.Error("mkdir outside the roots happened")
	}
	if st := e.fake.JobState("job5"); st != "ok" || !strings.Contains(strings.Join(statusMsgs(e, "job5"), "\n"), "job skipped") {
		t.Errorf("job5 %s: %q", st, statusMsgs(e, "job5"))
	}
	if _, err := os.Stat(filepath.Join(root, "skipped")); err == nil {
		t.Error("skipped job ran its actions")
	}
	if st := e.fake.JobState("job6"); st != "ko" || !strings.Contains(strings.Join(statusMsgs(e, "job6"), "\n"), "unknown action `reboot`") {
		t.Errorf("job6 %s: %q", st, statusMsgs(e, "job6"))
	}
}

// TestDeployExecRefused: with allow_exec off, a cmd action fails with the policy's reason.
func TestDeployExecRefused(t *testing.T) {
	e, _ := deployEnv(t)
	e.noExec = true
	e.fake.AddJob("job7", nil, []map[string]any{{"cmd": map[string]any{"exec": "true"}}})
	a := e.adapter(nil)
	if _, err := cycle(t, a); err == nil || !strings.Contains(err.Error(), "allow_exec") {
		t.Fatalf("err = %v", err)
	}
	if st := e.fake.JobState("job7"); st != "ko" {
		t.Errorf("job7 %s", st)
	}
}

// TestDeployUncompressArchive: an uncompress=1 file is unpacked by the runner into the job
// folder, where the next actions find it; a dead first mirror falls through to the next.
func TestDeployUncompressArchive(t *testing.T) {
	e, root := deployEnv(t)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("app/setup.sh")
	w.Write([]byte("echo installing > installed.txt\n"))
	zw.Close()
	e.fake.Set(func(s *glpifake.Server) { s.DeadMirrorFirst = true }) // the next mirror is used
	e.fake.AddJob("job8", nil, []map[string]any{
		{"cmd": map[string]any{"exec": "sh app/setup.sh", "name": "setup"}},
		{"move": map[string]any{"from": "installed.*", "to": root + "/"}},
	}, glpifake.File{Name: "app.zip", Data: zbuf.Bytes(), Parts: 2, Uncompress: true})
	a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.DeployFileRoots = []string{root} })
	if _, err := cycle(t, a); err != nil {
		t.Fatalf("%v: %q", err, statusMsgs(e, "job8"))
	}
	var reqs []string
	e.fake.Get(func(s *glpifake.Server) { reqs = s.Requests })
	if !strings.Contains(strings.Join(reqs, "\n"), "/dead-mirror/") {
		t.Error("the first mirror was not tried")
	}
	got, err := os.ReadFile(filepath.Join(root, "installed.txt"))
	if err != nil || strings.TrimSpace(string(got)) != "installing" {
		t.Fatalf("installed.txt: %v %q", err, got)
	}
}
