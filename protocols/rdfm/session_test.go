package rdfm_test

import (
	"context"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols/rdfm"
	"github.com/omniagent/omniagent/protocols/rdfm/rdfmfake"
)

// next waits for the next device message of the given method (others are kept in order).
func next(t testing.TB, f *rdfmfake.Server, method string) rdfmfake.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-f.Received():
			if m["method"] == method {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s from the device within 10 s", method)
		}
	}
}

func TestManagementSession(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("actions use /bin/sh")
	}
	e := newEnv(t)
	e.exec = true
	e.opts.ActionQueue = 1
	e.opts.Actions = []rdfm.Action{
		{ID: "hello", Name: "Hello", Description: "say hi", Command: []string{"/bin/sh", "-c", "echo hi; exit 3"}, Timeout: config.Duration(10 * time.Second)},
		{ID: "slow", Name: "Slow", Command: []string{"/bin/sh", "-c", "echo start; sleep 30"}, Timeout: config.Duration(time.Second)},
	}
	a := e.adapter(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.register()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()

	caps := next(t, e.fake, "capability_report")["capabilities"].(map[string]any)
	if caps["action"] != true || caps["shell"] != false || caps["filesystem"] != false {
		t.Fatalf("capabilities = %v", caps)
	}
	list := next(t, e.fake, "action_list_update")["actions"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["action_id"] != "hello" || list[1].(map[string]any)["timeout"] != 1.0 {
		t.Fatalf("action list = %v", list)
	}

	id, err := e.fake.RunAction(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if c := next(t, e.fake, "action_exec_control"); c["status"] != "ok" || c["execution_id"] != id {
		t.Fatalf("control = %v", c)
	}
	r := next(t, e.fake, "action_exec_result")
	out, _ := base64.StdEncoding.DecodeString(r["output"].(string))
	if r["execution_id"] != id || r["status_code"] != 3.0 || string(out) != "hi\n" {
		t.Fatalf("result = %v (output %q)", r, out)
	}

	// Timeout, and the queue (size 1) answering "full" while the slow action runs.
	slowID, _ := e.fake.RunAction(ctx, "slow")
	if c := next(t, e.fake, "action_exec_control"); c["status"] != "ok" {
		t.Fatalf("slow control = %v", c)
	}
	fullID, _ := e.fake.RunAction(ctx, "hello")
	if c := next(t, e.fake, "action_exec_control"); c["status"] != "full" || c["execution_id"] != fullID {
		t.Fatalf("queue full control = %v", c)
	}
	r = next(t, e.fake, "action_exec_result")
	out, _ = base64.StdEncoding.DecodeString(r["output"].(string))
	if r["execution_id"] != slowID || r["status_code"] != -1.0 || !strings.Contains(string(out), "timed out") {
		t.Fatalf("slow result = %v (output %q)", r, out)
	}

	// The server closes the socket: the agent reconnects and reports again.
	e.fake.CloseDevice(websocket.StatusNormalClosure, "bye")
	next(t, e.fake, "capability_report")
	if n := e.fake.Connections(); n != 2 {
		t.Fatalf("connections = %d, want 2", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestSessionWithoutActionsReportsNone(t *testing.T) {
	e := newEnv(t)
	e.opts.Actions = []rdfm.Action{{ID: "x", Command: []string{"true"}, Timeout: config.Duration(time.Second)}}
	_, _, caps := e.serving() // allow_exec off: the action capability is not reported
	if caps["action"] != false || caps["update-progress"] != true {
		t.Fatalf("capabilities = %v", caps)
	}
}

func TestCloseCodeReaction(t *testing.T) {
	a := newEnv(t).adapter(false)
	tests := []struct {
		code websocket.StatusCode
		want time.Duration
	}{
		{websocket.StatusNormalClosure, 0},
		{websocket.StatusUnsupportedData, 0},
		{4001, 0},
		{4002, 60 * time.Second},
	}
	for _, tt := range tests {
		err := websocket.CloseError{Code: tt.code, Reason: "x"}
		if got := a.CloseWait(err); got != tt.want {
			t.Errorf("close %d: wait %s, want %s", tt.code, got, tt.want)
		}
	}
}

// TestDuplicateSocketGets4002 checks the fake and the adapter agree on a second socket.
func TestDuplicateSocketGets4002(t *testing.T) {
	e := newEnv(t)
	_, ctx, _ := e.serving()
	b := e.adapter(false)
	wait, err := b.ServeOnce(ctx)
	if websocket.CloseStatus(err) != 4002 || wait != 60*time.Second {
		t.Fatalf("second socket: wait %s, err %v", wait, err)
	}
}

func TestUpdateProgressOverSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("install command uses /bin/sh")
	}
	e := newEnv(t)
	e.exec = true
	e.opts.InstallCommand = []string{"/bin/sh", "-c", "test -s \"$1\" && echo rdfm.software.version=3.1", "sh", "{file}"}
	a, ctx, _ := e.serving()
	e.fake.SetPackage(&rdfmfake.Package{ID: 4, Data: []byte(strings.Repeat("x", 1<<20)), Version: "3.1"}, false)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		m := next(t, e.fake, "update_progress")
		if m["progress"] == 100.0 {
			break
		}
	}
	if v := next(t, e.fake, "update_version"); v["version"] != "3.1" {
		t.Fatalf("update_version = %v", v)
	}
}

func nextTB(t testing.TB, e *env, method string) rdfmfake.Message { return next(t, e.fake, method) }

func TestOneshotDrainsQueuedActions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("actions use /bin/sh")
	}
	e := newEnv(t)
	e.exec = true
	e.opts.Actions = []rdfm.Action{{ID: "hi", Command: []string{"/bin/sh", "-c", "sleep 1; echo queued"}, Timeout: config.Duration(10 * time.Second)}}
	ctx := context.Background()
	e.adapter(false).Cycle(ctx)
	e.accept()
	id := e.fake.QueueAction("hi")
	res, err := e.adapter(true).Cycle(ctx)
	if err != nil || !strings.Contains(res.Summary, "drained") {
		t.Fatalf("oneshot = %+v, %v", res, err)
	}
	// The result went out before the oneshot cycle returned.
	var r rdfmfake.Message
	for r == nil {
		select {
		case m := <-e.fake.Received():
			if m["method"] == "action_exec_result" {
				r = m
			}
		default:
			t.Fatal("no action result received before the oneshot cycle returned")
		}
	}
	out, _ := base64.StdEncoding.DecodeString(r["output"].(string))
	if r["execution_id"] != id || string(out) != "queued\n" {
		t.Fatalf("result = %v %q", r, out)
	}
	if e.fake.Connections() != 1 {
		t.Fatalf("connections = %d", e.fake.Connections())
	}
}
