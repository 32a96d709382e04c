package mig_test

import (
	"context"
	"testing"
	"time"

	"github.com/omniagent/omniagent/protocols/mig/action"
)

// BenchmarkSignedFileCommand: one signed file-module command end to end through the broker:
// scheduler publish → agent consume, ack, verify (RSA-2048 signature, ACL), file search on a
// small tree → result published with confirm → scheduler consume and acceptance checks.
func BenchmarkSignedFileCommand(b *testing.B) {
	broker := brokerURL(b)
	e := newEnv(b, broker)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a := e.adapter(false)
	if _, err := a.Cycle(ctx); err != nil {
		b.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	go a.Serve(ctx)
	for a.Sessions() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	row, _ := e.fake.Agent(ql)
	// The id is not signed: one signature serves every command.
	act := signed(b, "file passwd", []action.Operation{e.fileOp()}, alice)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		id, err := e.fake.Send(ctx, row, act)
		if err != nil {
			b.Fatal(err)
		}
		v, err := e.fake.WaitResult(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if !v.Accepted || v.Command.Status != action.StatusSuccess {
			b.Fatalf("result: %s %s", v.Reason, v.Body)
		}
	}
}
