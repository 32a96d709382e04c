package jobs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type recordPower struct{ got []PowerRequest }

func (p *recordPower) Do(_ context.Context, req PowerRequest) error {
	p.got = append(p.got, req)
	return nil
}

func TestPowerPolicyAndValidation(t *testing.T) {
	rec := &recordPower{}
	off := New(Options{Server: "srv3", Power: rec})
	if err := off.Power(context.Background(), PowerRequest{Action: Reboot}); !errors.Is(err, ErrRefused) ||
		!strings.Contains(err.Error(), "allow_power is false for server \"srv3\"") {
		t.Fatalf("err=%v", err)
	}
	on := New(Options{Server: "s", Power: rec, Policy: Policy{AllowPower: true}})
	for _, bad := range []PowerRequest{{Action: "hibernate"}, {Action: Reboot, Delay: -time.Minute}, {Action: Shutdown, Delay: 30 * 24 * time.Hour}} {
		if err := on.Power(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := on.Power(context.Background(), PowerRequest{Action: Reboot, Delay: 5 * time.Minute, Message: "patch \"now\"\n& reboot"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || rec.got[0].Message != "patch now reboot" || rec.got[0].Delay != 5*time.Minute {
		t.Fatalf("got %+v", rec.got)
	}
}

func TestPowerExitAgent(t *testing.T) {
	called := make(chan time.Time, 2)
	r := New(Options{Server: "s", Policy: Policy{AllowPower: true}, OnExit: func() { called <- time.Now() }})
	if err := r.Power(context.Background(), PowerRequest{Action: ExitAgent}); err != nil {
		t.Fatal(err)
	}
	if err := r.Power(context.Background(), PowerRequest{Action: ExitAgent}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("OnExit not called")
	}
	select {
	case <-called:
		t.Fatal("OnExit called twice")
	case <-time.After(300 * time.Millisecond):
	}
	noHook := New(Options{Server: "s", Policy: Policy{AllowPower: true}})
	if err := noHook.Power(context.Background(), PowerRequest{Action: ExitAgent}); err == nil {
		t.Fatal("exit accepted without a handler")
	}
}

func TestPowerCommands(t *testing.T) {
	for _, tc := range []struct {
		goos string
		req  PowerRequest
		want []string
	}{
		{"linux", PowerRequest{Action: Reboot}, []string{"shutdown", "-r", "now"}},
		{"linux", PowerRequest{Action: Shutdown, Delay: 90 * time.Second, Message: "bye"}, []string{"shutdown", "-P", "+2", "bye"}},
		{"darwin", PowerRequest{Action: Reboot, Delay: 10 * time.Minute}, []string{"/sbin/shutdown", "-r", "+10"}},
		{"darwin", PowerRequest{Action: Shutdown, Message: "m"}, []string{"/sbin/shutdown", "-h", "now", "m"}},
		{"windows", PowerRequest{Action: Reboot, Delay: 5 * time.Minute, Message: "update"}, []string{"shutdown.exe", "/r", "/t", "300", "/c", "update", "/d", "p:4:1"}},
		{"windows", PowerRequest{Action: Shutdown}, []string{"shutdown.exe", "/s", "/t", "0", "/d", "p:4:1"}},
	} {
		got, err := powerCommand(tc.goos, tc.req)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %+v: %q %v", tc.goos, tc.req, got, err)
		}
	}
	if _, err := powerCommand("plan9", PowerRequest{Action: Reboot}); err == nil {
		t.Error("plan9 accepted")
	}
	if _, err := powerCommand("linux", PowerRequest{Action: ExitAgent}); err == nil {
		t.Error("exit has no command")
	}
}
