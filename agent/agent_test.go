package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
)

// exitAdapter asks the job runner for an agent exit on its first cycle, as OCO does after an
// agent update.
type exitAdapter struct{ jobs *jobs.Runner }

func (a exitAdapter) Cycle(ctx context.Context) (protocols.Result, error) {
	if err := a.jobs.Power(ctx, jobs.PowerRequest{Action: jobs.ExitAgent}); err != nil {
		return protocols.Result{}, fmt.Errorf("exit request: %w", err)
	}
	return protocols.Result{Summary: "exit requested"}, nil
}

// exiterRegistry registers exitAdapter under name, with an hourly default interval.
func exiterRegistry(name string) *protocols.Registry {
	reg := protocols.NewRegistry()
	reg.Register(protocols.Protocol{
		Name:            name,
		DefaultInterval: time.Hour,
		New:             func(d protocols.Deps) (protocols.Adapter, error) { return exitAdapter{d.Jobs}, nil },
	})
	return reg
}

func TestServerRequestedExitStopsRun(t *testing.T) {
	tests := []struct {
		name       string
		allowPower bool
		wantExit   bool
	}{
		{"allowed", true, true},
		{"refused by policy", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := exiterRegistry("exiter")
			src := fmt.Sprintf("[agent]\nstate_dir = %q\nmemory_limit = \"0\"\nsplay = \"0s\"\n[[server]]\nname = \"x\"\nprotocol = \"exiter\"\nurl = \"https://x.invalid\"\nallow_power = %v\n", t.TempDir(), tt.allowPower)
			cfg, err := config.Parse([]byte(src), "test.toml", reg)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Build(t.Context(), cfg, slog.New(slog.DiscardHandler), Options{Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			err = a.Run(ctx)
			if got := errors.Is(err, ErrExitRequested); got != tt.wantExit {
				t.Fatalf("Run() = %v; exit requested = %v, want %v", err, got, tt.wantExit)
			}
			if tt.wantExit && ctx.Err() != nil {
				t.Fatal("Run only ended at the test deadline, not on the exit request")
			}
		})
	}
}

// hbOptions is a heartbeat protocol's options, as MIG's heartbeat_interval.
type hbOptions struct {
	HeartbeatInterval config.Duration `toml:"heartbeat_interval"`
}

// TestHeartbeatProtocolSchedule: a heartbeat protocol runs at its heartbeat period (not the
// default interval nor interval), at start, with its back-off capped at a few periods.
func TestHeartbeatProtocolSchedule(t *testing.T) {
	reg := protocols.NewRegistry()
	reg.Register(protocols.Protocol{
		Name:            "beat",
		DefaultInterval: 5 * time.Minute,
		NewOptions:      func() any { return &hbOptions{HeartbeatInterval: config.Duration(time.Minute)} },
		Heartbeat:       func(o any) time.Duration { return o.(*hbOptions).HeartbeatInterval.D() },
		New: func(d protocols.Deps) (protocols.Adapter, error) {
			return exitAdapter{d.Jobs}, nil
		},
	})
	src := fmt.Sprintf("[agent]\nstate_dir = %q\nmemory_limit = \"0\"\n[[server]]\nname = \"x\"\nprotocol = \"beat\"\nurl = \"https://x.invalid\"\ninterval = \"1h\"\nheartbeat_interval = \"20s\"\n", t.TempDir())
	cfg, err := config.Parse([]byte(src), "test.toml", reg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Build(t.Context(), cfg, slog.New(slog.DiscardHandler), Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := a.Servers[0]
	if srv.Interval != 20*time.Second || !srv.NoSplay || srv.MaxBackoff != protocols.HeartbeatBackoffIntervals*20*time.Second {
		t.Fatalf("server scheduled with interval %s, no splay %v, max back-off %s; want 20s, true, %s",
			srv.Interval, srv.NoSplay, srv.MaxBackoff, protocols.HeartbeatBackoffIntervals*20*time.Second)
	}
}

// TestBuildWithoutServersResolvesNothing: a daemon with no server opens no state and leaves the
// identity unresolved (no machine UID, no DNS query for the FQDN); a oneshot run, which prints
// the inventory, and a daemon with a server resolve it.
func TestBuildWithoutServersResolvesNothing(t *testing.T) {
	reg := exiterRegistry("idle")
	server := "[[server]]\nname = \"x\"\nprotocol = \"idle\"\nurl = \"https://x.invalid\"\n"
	for _, tc := range []struct {
		name     string
		server   string
		oneshot  bool
		resolved bool
		state    bool
	}{
		{"no server", "", false, false, false},
		{"no server, oneshot (prints the inventory)", "", true, true, false},
		{"one server", server, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf("[agent]\nstate_dir = %q\nmachine_uid = \"4c4c4544-0042-3510-8052-b2c04f395a31\"\nhostname = \"pc1.example.org\"\n%s", t.TempDir(), tc.server)
			cfg, err := config.Parse([]byte(src), "test.toml", reg)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Build(t.Context(), cfg, slog.New(slog.DiscardHandler), Options{Registry: reg, Run: protocols.Options{Oneshot: tc.oneshot}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if got := a.Identity.MachineUID != ""; got != tc.resolved {
				t.Errorf("identity %+v: resolved = %v, want %v", a.Identity, got, tc.resolved)
			}
			if got := a.Store != nil; got != tc.state {
				t.Errorf("state opened = %v, want %v", got, tc.state)
			}
			if a.Identity.AgentVersion == "" {
				t.Error("the agent version is missing from the identity")
			}
		})
	}
}
