//go:build unix

// The job procedures below are POSIX shell command lines.

package oco_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
)

func TestJobSucceedsWithPostAction(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true, PHPStrings: true})
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.AddPackage(5, zipOf(t, map[string]string{"install.sh": "echo installing; sleep 1.5; echo done; exit 0\n", "data/payload.txt": "x"}))
	restart := 10
	e.fake.AddJob(ocofake.Job{ID: 1, ContainerID: 1, PackageID: 5, Hostname: "pc1", Download: true, Procedure: "test -f data/payload.txt && sh install.sh", SuccessCodes: "0", SequenceMode: 1, Restart: &restart})
	e.fake.AddJob(ocofake.Job{ID: "dynamic-7", ContainerID: "deployment_rule::1", PackageID: 6, Hostname: "pc1", Procedure: "true", Priority: -1})
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	j, _ := e.fake.Job(1)
	if j.State != 3 || j.ReturnCode == nil || *j.ReturnCode != 0 || !strings.Contains(j.Message, "installing\ndone") {
		t.Fatalf("job = %+v", j)
	}
	// download start, unpacking (101), execution, live output (the script runs 1.5 s with
	// live_output = 1s), final state.
	h := strings.Join(j.History, ",")
	if !strings.HasPrefix(h, "1@0,1@101,2@100,2@100+output,") || !strings.HasSuffix(h, ",3") {
		t.Errorf("state reports = %v", j.History)
	}
	p := e.power.list()
	if len(p) != 1 || p[0].Action != "reboot" || p[0].Delay != 0 { // nobody logged in → no delay
		t.Errorf("power requests = %+v", p)
	}
	// The restart is pending: the dynamic job waits for the next start.
	if d, _ := e.fake.Job("dynamic-7"); d.State != 0 || !strings.Contains(res.Summary, "1 skipped") {
		t.Errorf("job after a scheduled restart: %+v (%s)", d, res.Summary)
	}
	spool := filepath.Join(e.stateDir, "spool", "oco-test")
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool not cleaned: %v", left)
	}
	// After the restart, the dynamic job runs and its id is echoed verbatim.
	if _, err := e.adapter(nil).Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.fake.Job("dynamic-7"); d.State != 3 {
		t.Errorf("dynamic job = %+v", d)
	}
}

func TestJobFailsInSequenceMode(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "second-ran")
	e.fake.AddJob(ocofake.Job{ID: 10, ContainerID: 3, Hostname: "pc1", Procedure: "echo failing; exit 3", SuccessCodes: "0, 1", SequenceMode: 1, Sequence: 1})
	e.fake.AddJob(ocofake.Job{ID: 11, ContainerID: 3, Hostname: "pc1", Procedure: "touch " + marker, SequenceMode: 1, Sequence: 2})
	e.fake.AddJob(ocofake.Job{ID: 12, ContainerID: 4, Hostname: "pc1", Procedure: "exit 3", Sequence: 3}) // empty list: any rc succeeds
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j10, _ := e.fake.Job(10)
	j11, _ := e.fake.Job(11)
	j12, _ := e.fake.Job(12)
	if j10.State != -1 || *j10.ReturnCode != 3 || !strings.Contains(j10.Message, "failing") {
		t.Errorf("failed job = %+v", j10)
	}
	if j11.State != -1 || *j11.ReturnCode != -8888 || j11.Message != "Aborted after failed job" || fileExists(marker) {
		t.Errorf("second job of the container = %+v (ran: %v)", j11, fileExists(marker))
	}
	if j12.State != 3 {
		t.Errorf("job with no success codes = %+v", j12)
	}
	if !strings.Contains(res.Summary, "1 succeeded, 1 failed, 1 skipped") {
		t.Errorf("summary = %q", res.Summary)
	}
	if res.JobsFailed != 1 { // the scheduler shows "ok, 1 job failed" and --oneshot exits 3
		t.Errorf("JobsFailed = %d, want 1", res.JobsFailed)
	}
}

func TestJobPackageProblems(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	good := zipOf(t, map[string]string{"install.sh": "echo a-fine-payload-that-is-long-enough\n"})
	bad := bytes.Replace(good, []byte("a-fine-payload"), []byte("a-FINE-payload"), 1) // CRC no longer matches
	if bytes.Equal(good, bad) {
		t.Fatal("corruption did not apply")
	}
	e.fake.AddPackage(20, bad)
	e.fake.AddPackage(21, good)
	e.fake.AddJob(ocofake.Job{ID: 30, ContainerID: 9, PackageID: 20, Hostname: "pc1", Download: true, Procedure: "touch " + marker, Sequence: 1})
	e.fake.AddJob(ocofake.Job{ID: 31, ContainerID: 9, PackageID: 21, Hostname: "pc1", Download: true, Procedure: "touch " + marker, Sequence: 2})
	e.fake.AddJob(ocofake.Job{ID: 32, ContainerID: 9, PackageID: 99, Hostname: "pc1", Download: true, Procedure: "touch " + marker, Sequence: 3})
	e.fake.TruncateNextDownload() // hits job 30's download first… so corrupt job 30 on the second pass
	if _, err := a.Cycle(ctx); err == nil {
		t.Fatal("cycle with broken packages reported no error")
	}
	j30, _ := e.fake.Job(30)
	if j30.State != -1 || *j30.ReturnCode != -9999 || !strings.Contains(j30.Message, "bytes") {
		t.Errorf("truncated download: %+v", j30)
	}
	j31, _ := e.fake.Job(31)
	if j31.State != 3 {
		t.Errorf("good package after a bad one: %+v", j31)
	}
	j32, _ := e.fake.Job(32)
	if j32.State != -1 || !strings.Contains(j32.Message, "Package not found") {
		t.Errorf("missing package: %+v", j32)
	}
	os.Remove(marker)
	// Now the CRC: offer the corrupt package again through a new job.
	e.fake.AddJob(ocofake.Job{ID: 33, ContainerID: 10, PackageID: 20, Hostname: "pc1", Download: true, Procedure: "touch " + marker})
	a.Cycle(ctx)
	j33, _ := e.fake.Job(33)
	if j33.State != -1 || *j33.ReturnCode != -9999 || !strings.Contains(strings.ToLower(j33.Message), "checksum") || fileExists(marker) {
		t.Errorf("corrupt ZIP entry: %+v (procedure ran: %v)", j33, fileExists(marker))
	}
}

func TestJobInterruptedByRestart(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	a := e.adapter(nil)
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "runs")
	e.fake.AddJob(ocofake.Job{ID: 40, ContainerID: 11, Hostname: "pc1", Procedure: "echo x >> " + marker + "; sleep 30"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := a.Cycle(ctx); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	// Wait for the line, not the file: the shell creates the file before echo writes to it.
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(marker); string(b) == "x\n" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel() // the agent stops mid-job
	if err := <-done; err == nil {
		t.Fatal("interrupted cycle returned no error")
	}
	if j, _ := e.fake.Job(40); j.State != 2 {
		t.Fatalf("job before restart = %+v", j)
	}
	if readState(t, e.stateDir)["in_flight_job"] == nil {
		t.Fatal("in-flight job not persisted")
	}
	// Restart: the job is reported failed, not run again.
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	j, _ := e.fake.Job(40)
	if j.State != -1 || *j.ReturnCode != -9999 || !strings.Contains(j.Message, "interrupted") {
		t.Errorf("job after restart = %+v", j)
	}
	if b, _ := os.ReadFile(marker); string(b) != "x\n" {
		t.Errorf("procedure ran %q times", b)
	}
	if readState(t, e.stateDir)["in_flight_job"] != nil {
		t.Error("in-flight record not cleared")
	}
}

func TestLegacyEndToEnd(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true, Legacy116: true})
	ctx := context.Background()
	a := e.adapter(func(_ *config.Server, o *oco.Options) { o.OCOProtocol = oco.ModeLegacy })
	res, err := a.Cycle(ctx)
	if err != nil || res.Details["protocol"] != "legacy" {
		t.Fatalf("legacy first contact: %v %+v", err, res)
	}
	e.fake.AddPackage(3, zipOf(t, map[string]string{"run.sh": "echo legacy-ok\n"}))
	e.fake.AddJob(ocofake.Job{ID: 50, ContainerID: 1, PackageID: 3, Hostname: "pc1", Download: true, Procedure: "sh run.sh"})
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if j, _ := e.fake.Job(50); j.State != 3 || !strings.Contains(j.Message, "legacy-ok") {
		t.Errorf("legacy job = %+v", j)
	}
	sawLegacyGET := false
	for _, x := range e.fake.Exchanges() {
		sawLegacyGET = sawLegacyGET || (x.Method == "legacy-download" && x.Status == 200)
		if strings.Contains(x.Answer, `"timestamp"`) {
			t.Errorf("1.1.6 answer with a timestamp: %s", x.Answer)
		}
	}
	if !sawLegacyGET {
		t.Error("the package was not fetched with the legacy GET")
	}
	// A legacy server presenting another key is refused.
	e.fake.ChangeServerKey("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
	if _, err := a.Cycle(ctx); !errors.Is(err, oco.ErrServerKeyChanged) {
		t.Errorf("legacy key change: %v", err)
	}
}

func TestExecRefusedByPolicy(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.noExec = true
	a := e.adapter(nil)
	marker := filepath.Join(t.TempDir(), "ran")
	e.fake.AddJob(ocofake.Job{ID: 60, ContainerID: 1, Hostname: "pc1", Procedure: "touch " + marker})
	res, err := a.Cycle(context.Background())
	if err == nil {
		t.Error("a refused job gave no cycle error")
	}
	// Reported to the server: the exchange worked, only the job failed.
	if n, only := protocols.SplitJobFailures(err); !only || n != 1 || res.JobsFailed != 1 {
		t.Errorf("SplitJobFailures = %d, %v, JobsFailed %d; want one job failure only (%v)", n, only, res.JobsFailed, err)
	}
	j, _ := e.fake.Job(60)
	if j.State != -1 || *j.ReturnCode != -9999 || !strings.Contains(j.Message, "allow_exec") || fileExists(marker) {
		t.Errorf("job under allow_exec = false: %+v", j)
	}
}

// TestLostFinalReportIsResentNotRerun: the final report is lost, the server offers the job
// again, and the agent re-sends the kept result instead of running the procedure twice.
func TestLostFinalReportIsResentNotRerun(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	a := e.adapter(nil)
	marker := filepath.Join(t.TempDir(), "runs")
	e.fake.AddJob(ocofake.Job{ID: 70, ContainerID: 1, Hostname: "pc1", Procedure: "echo run >> " + marker})
	e.fake.DropNextFinalReport()
	if _, err := a.Cycle(context.Background()); err == nil {
		t.Fatal("a lost report gave no error")
	}
	if j, _ := e.fake.Job(70); j.State != 2 {
		t.Fatalf("job after the lost report = %+v", j)
	}
	// Even across a restart.
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if j, _ := e.fake.Job(70); j.State != 3 || j.Message != "" {
		t.Errorf("job after re-sending = %+v", j)
	}
	if b, _ := os.ReadFile(marker); string(b) != "run\n" {
		t.Errorf("procedure ran %q", b)
	}
}

// TestVanishedDynamicJob: the server deletes a dynamic job while it runs; the agent logs the
// 400 "Job »…« not found" and goes on.
func TestVanishedDynamicJob(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	a := e.adapter(nil)
	marker := filepath.Join(t.TempDir(), "started")
	e.fake.AddJob(ocofake.Job{ID: "dynamic-9", ContainerID: "deployment_rule::2", Hostname: "pc1", Procedure: "touch " + marker + "; sleep 1", Sequence: 1})
	e.fake.AddJob(ocofake.Job{ID: "dynamic-10", ContainerID: "deployment_rule::2", Hostname: "pc1", Procedure: "true", Sequence: 2})
	go func() {
		for i := 0; i < 500 && !fileExists(marker); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		e.fake.RemoveJob("dynamic-9")
	}()
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("cycle: %v", err)
	}
	if _, ok := e.fake.Job("dynamic-9"); ok {
		t.Fatal("job not removed")
	}
	if j, _ := e.fake.Job("dynamic-10"); j.State != 3 {
		t.Errorf("next job = %+v", j)
	}
}

func TestExitPostAction(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	zero, never := 0, -1
	e.fake.AddJob(ocofake.Job{ID: 80, ContainerID: 1, Hostname: "pc1", Procedure: "true", Exit: &zero, Restart: &never, Sequence: 1})
	e.fake.AddJob(ocofake.Job{ID: 81, ContainerID: 1, Hostname: "pc1", Procedure: "true", Sequence: 2})
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := e.power.list()
	if len(p) != 1 || p[0].Action != "exit" || p[0].Delay != 0 {
		t.Errorf("power = %+v", p)
	}
	if j, _ := e.fake.Job(81); j.State != 0 {
		t.Errorf("job after exit = %+v", j)
	}
}

// TestLegacyAgainstCurrentServer: legacy mode against a current server fails with a hint that
// points to oco_protocol = "hmac".
func TestLegacyAgainstCurrentServer(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	_, err := e.adapter(func(_ *config.Server, o *oco.Options) { o.OCOProtocol = oco.ModeLegacy }).Cycle(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"Signature header missing"`) || !strings.Contains(err.Error(), `oco_protocol = "hmac"`) {
		t.Fatalf("err = %v", err)
	}
}
