package mig_test

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig"
	"github.com/omniagent/omniagent/protocols/mig/action"
	"github.com/omniagent/omniagent/protocols/mig/migfake"
)

// waitFor polls cond until it holds or the test's deadline for it passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkEnvelope applies what every result must satisfy beyond the scheduler's rules.
func checkEnvelope(t *testing.T, v migfake.Verdict, queueLoc string) {
	t.Helper()
	if !v.Accepted {
		t.Fatalf("result dropped by the scheduler: %s\n%s", v.Reason, v.Body)
	}
	if bytes.HasSuffix(v.Body, []byte("\n")) || !bytes.HasPrefix(v.Body, []byte(`{"id":`)) {
		t.Errorf("result envelope not compact json.Marshal bytes: %q…", v.Body[:min(40, len(v.Body))])
	}
	if v.Command.Agent.QueueLoc != queueLoc || v.Command.Agent.PID != os.Getpid() || v.Command.Agent.Name != "vm" {
		t.Errorf("agent echoed = %+v", v.Command.Agent)
	}
	if !v.Command.FinishTime.IsZero() {
		t.Errorf("finishtime set by the agent: %v", v.Command.FinishTime)
	}
	// §3.1: persistent, text/plain, expiration 10 × heartbeat interval (1 min in tests), now.
	p := v.Props
	if p.DeliveryMode != 2 || p.ContentType != "text/plain" || p.Expiration != "600000" || time.Since(p.Timestamp) > time.Minute {
		t.Errorf("result properties = %+v", p)
	}
}

func TestOneshotHeartbeatAndDrain(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	ctx := ctxT(t, 60*time.Second)

	// First run: declares the queue, heartbeats, finds nothing.
	a := e.adapter(true)
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatalf("first oneshot: %v", err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	if !strings.HasPrefix(res.Summary, "heartbeat sent, 0 command") {
		t.Errorf("summary = %q", res.Summary)
	}
	row, ok := e.fake.Agent(ql)
	if !ok || row.Transport != "http" || row.Agent.Status != "online" || row.Agent.Mode != "checkin" {
		t.Fatalf("agent row = %+v, %v", row, ok)
	}

	// Commands wait in the durable queue while the agent is not running.
	one := signed(t, "file passwd", []action.Operation{e.fileOp()}, alice)
	two := signed(t, "file and unknown", []action.Operation{e.fileOp(), {Module: "nosuch", Parameters: map[string]any{}}}, alice)
	id1, err := e.fake.Send(ctx, row, one)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := e.fake.Send(ctx, row, two)
	if err != nil {
		t.Fatal(err)
	}

	// Second run (a new process in real life; same state folder, so the same queue).
	b := e.adapter(true)
	res, err = b.Cycle(ctx)
	if err != nil {
		t.Fatalf("second oneshot: %v", err)
	}
	if b.QueueLoc() != ql {
		t.Fatalf("queueloc changed across runs: %s then %s", ql, b.QueueLoc())
	}
	if !strings.Contains(res.Summary, "2 command(s) taken") || res.Details["commands_handled"] != "2" || res.Details["results_pending"] != "0" {
		t.Errorf("result = %+v", res)
	}
	if res.Details["queue"] != "mig.agt."+ql || !strings.HasSuffix(res.Details["last_heartbeat"], "over http") {
		t.Errorf("details = %v", res.Details)
	}

	v1, err := e.fake.WaitResult(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v1, ql)
	if v1.Command.Status != action.StatusSuccess || !v1.Command.Results[0].FoundAnything || !v1.Command.Results[0].Success {
		t.Fatalf("file command: %s", v1.Body)
	}
	var files []string
	for _, el := range fileElements(t, v1, 0) {
		files = append(files, el["file"].(string))
	}
	sort.Strings(files)
	if len(files) != 2 || !strings.HasSuffix(files[0], "/tree/passwd") || !strings.HasSuffix(files[1], "/tree/sub/passwd") {
		t.Errorf("files found = %v", files)
	}

	v2, err := e.fake.WaitResult(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v2, ql)
	if v2.Command.Status != action.StatusFailed || len(v2.Command.Results) != 2 || !v2.Command.Results[0].Success ||
		len(v2.Command.Results[1].Errors) != 1 || v2.Command.Results[1].Errors[0] != "module 'nosuch' is not available" {
		t.Errorf("two operations: %s", v2.Body)
	}
}

// checkin = true: no standing connection; every cycle is a check-in run.
func TestCheckinMode(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	e.opts.Checkin = true
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(false)
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.Serve(sctx) }()
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	row, _ := e.fake.Agent(ql)
	if row.Agent.Mode != "checkin" {
		t.Errorf("mode = %q", row.Agent.Mode)
	}
	id, err := e.fake.Send(ctx, row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.fake.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v, ql)
	if res.Details["commands_handled"] != "1" || a.Sessions() != 0 {
		t.Errorf("details = %v, sessions = %d (a check-in agent holds no session)", res.Details, a.Sessions())
	}
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestServeReceivesCommand(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(false)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.Serve(sctx) }()
	waitFor(t, "the relay session", 10*time.Second, func() bool { return a.Sessions() >= 1 })

	row, _ := e.fake.Agent(ql)
	id, err := e.fake.Send(ctx, row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.fake.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v, ql)
	if v.Command.Status != action.StatusSuccess || len(fileElements(t, v, 0)) != 2 {
		t.Errorf("result: %s", v.Body)
	}
	// The scheduler may see the result before the broker's confirm reaches the agent.
	waitFor(t, "the broker's confirm", 5*time.Second, func() bool { return a.Pending() == 0 })
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Details["commands_handled"] != "1" || res.Details["results_published"] != "1" || res.Details["relay"] != "connected" {
		t.Errorf("details = %v", res.Details)
	}

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after cancel = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestReconnectAndRedeclare(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	ctx := ctxT(t, 90*time.Second)
	a := e.adapter(false)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	serve(t, ctx, a)
	waitFor(t, "the relay session", 10*time.Second, func() bool { return a.Sessions() >= 1 })
	row, _ := e.fake.Agent(ql)
	roundTrip := func(name string) {
		t.Helper()
		id, err := e.fake.Send(ctx, row, signed(t, name, []action.Operation{e.fileOp()}, alice))
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.fake.WaitResult(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		checkEnvelope(t, v, ql)
		if v.Command.Status != action.StatusSuccess {
			t.Errorf("%s: %s", name, v.Body)
		}
	}

	// A network loss: the socket dies under the client.
	if !a.DropRelay() {
		t.Fatal("no live relay connection to drop")
	}
	waitFor(t, "the reconnection after a dropped socket", 20*time.Second, func() bool { return a.Sessions() >= 2 })
	roundTrip("after drop")

	// The queue disappears (as after a broker reset): the agent must declare and bind it again.
	if err := e.fake.DeleteQueue(ql); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queue declared again with our consumer", 20*time.Second, func() bool {
		ok, consumers, err := e.fake.QueueExists(ql)
		return err == nil && ok && consumers == 1 && a.Sessions() >= 3
	})
	roundTrip("after redeclare")
}

// A result produced while the relay is unreachable waits in memory and is published by the next
// session.
func TestPendingResultPublishedAfterReconnect(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(false)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	row, _ := e.fake.Agent(ql)
	id, body, err := e.fake.Prepare(row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	a.HandleRaw(ctx, body)
	if a.Pending() != 1 {
		t.Fatalf("pending = %d, want the result kept", a.Pending())
	}
	serve(t, ctx, a)
	v, err := e.fake.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v, ql)
	waitFor(t, "the outbox to empty", 5*time.Second, func() bool { return a.Pending() == 0 })
}

func TestRejectedCommandsAnsweredFailed(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(true)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	row, _ := e.fake.Agent(ql)

	tampered := signed(t, "tampered", []action.Operation{e.fileOp()}, alice)
	tampered.Operations[0] = action.Operation{Module: "file", Parameters: map[string]any{"searches": map[string]any{
		"s1": map[string]any{"paths": []any{"/"}, "names": []any{"^shadow$"}}}}}
	unknown := signed(t, "unknown signer", []action.Operation{e.fileOp(), e.fileOp()}, mallory)
	cases := []struct {
		name string
		act  action.Action
		want string
		n    int
	}{
		{"tampered parameters", tampered, "parseCommands() -> checkActionAuthorization() -> ", 1},
		{"unknown signer", unknown, "openpgp: signature made by unknown entity", 2},
	}
	ids := make([]float64, len(cases))
	for i, c := range cases {
		id, err := e.fake.Send(ctx, row, c.act)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	b := e.adapter(true)
	if _, err := b.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := e.fake.WaitResult(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			checkEnvelope(t, v, ql)
			if v.Command.Status != action.StatusFailed || len(v.Command.Results) != c.n {
				t.Fatalf("result: %s", v.Body)
			}
			for _, r := range v.Command.Results {
				if r.Success || r.FoundAnything || r.Elements != nil || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], c.want) {
					t.Errorf("result entry = %+v, want an error containing %q", r, c.want)
				}
			}
		})
	}
}

func TestAMQPHeartbeat(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	e.opts.HeartbeatTransport = mig.HeartbeatAMQP
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(false)

	// Without a session the heartbeat uses a short connection of its own.
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	row, err := e.fake.WaitAgent(ctx, ql)
	if err != nil {
		t.Fatal(err)
	}
	if row.Transport != "amqp" || len(e.fake.Heartbeats()) != 0 || !strings.HasSuffix(res.Details["last_heartbeat"], "over amqp") {
		t.Fatalf("row = %+v, http beats = %d, details = %v", row, len(e.fake.Heartbeats()), res.Details)
	}
	hb := e.fake.LegacyHeartbeats()[0]
	if hb.Name != "vm" || hb.Mode != "daemon" || hb.PID != os.Getpid() || hb.Env.OS != runtime.GOOS || hb.Env.Ident != "Debian 12 bookworm" ||
		hb.Env.PublicIP != "198.51.100.7" || len(hb.Env.Modules) == 0 {
		// publicip from the API's /ip, as over HTTP.
		t.Errorf("legacy heartbeat = %+v", hb)
	}
	if tags, _ := hb.Tags.(map[string]any); tags["operator"] != "IT" {
		t.Errorf("legacy tags = %#v", hb.Tags)
	}

	// With a session it goes over the session's channel; commands still flow.
	serve(t, ctx, a)
	waitFor(t, "the relay session", 10*time.Second, func() bool { return a.Sessions() >= 1 })
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second legacy heartbeat", 10*time.Second, func() bool { return len(e.fake.LegacyHeartbeats()) >= 2 })

	// A check-in run sends it over its own connection, in mode checkin.
	if _, err := e.adapter(true).Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the check-in legacy heartbeat", 10*time.Second, func() bool { return len(e.fake.LegacyHeartbeats()) >= 3 })
	if hb := e.fake.LegacyHeartbeats()[2]; hb.Mode != "checkin" || hb.QueueLoc != ql {
		t.Errorf("check-in heartbeat = %+v", hb)
	}
	id, err := e.fake.Send(ctx, row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.fake.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v, ql)
	if v.Command.Status != action.StatusSuccess {
		t.Errorf("result: %s", v.Body)
	}
}

func TestRelayUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.opts.Relay = "amqp://guest:secret@127.0.0.1:1/mig"
	a := e.adapter(true)
	_, err := a.Cycle(ctxT(t, 20*time.Second))
	if err == nil || !strings.Contains(err.Error(), "connect to relay") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Cycle = %v, want a relay connection error without the password", err)
	}
}
