package jumpcloud_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

// TestOnShutdownModes: each on_shutdown mode's effect on the record and the groups.
func TestOnShutdownModes(t *testing.T) {
	for _, mode := range []string{jumpcloud.ShutdownNone, jumpcloud.ShutdownLeaveGroups, jumpcloud.ShutdownDelete} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, false)
			e.fake.JoinGroup(groupX, sysID)
			o := e.options()
			o.OnShutdown = mode
			a := e.adapter(o)
			if _, err := cycle(t, a); err != nil {
				t.Fatal(err)
			}
			e.fake.ResetLog()
			if err := a.OnSystemShutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			v := e.fake.Inspect(sysID)
			switch mode {
			case jumpcloud.ShutdownNone:
				if len(v.Log) != 0 || len(v.Groups) != 3 {
					t.Errorf("none: %d requests, groups %v", len(v.Log), v.Groups)
				}
			case jumpcloud.ShutdownLeaveGroups:
				if v.System == nil || strings.Join(v.Groups, ",") != groupX || v.Counts["POST /api/v2/systemgroups/{group_id}/members"] != 2 {
					t.Errorf("leave_groups: groups %v, counts %v", v.Groups, v.Counts)
				}
			case jumpcloud.ShutdownDelete:
				if !v.Deleted || v.Counts["DELETE /api/systems/{id}"] != 1 {
					t.Errorf("delete: deleted %v, counts %v", v.Deleted, v.Counts)
				}
			}
			for _, l := range v.Log {
				if l.Status == http.StatusUnauthorized {
					t.Errorf("401 on %s %s: %s", l.Method, l.Target, l.Reason)
				}
			}
		})
	}
}

// TestShutdownHangingServer: a server that never answers does not hold the shutdown past
// shutdown_timeout.
func TestShutdownHangingServer(t *testing.T) {
	e := newEnv(t, false)
	o := e.options()
	o.OnShutdown = jumpcloud.ShutdownDelete
	o.ShutdownTimeout = config.Duration(time.Second)
	a := e.adapter(o)
	e.fake.Hang(true)
	start := time.Now()
	err := a.OnSystemShutdown(context.Background())
	took := time.Since(start)
	if err == nil {
		t.Fatal("a hung server reported success")
	}
	if took > 3*time.Second {
		t.Errorf("shutdown action took %s with shutdown_timeout 1s", took)
	}
}

type fixedDetector bool

func (d fixedDetector) SystemShuttingDown(context.Context) bool { return bool(d) }

// TestAgentShutdownWiring runs the real agent (config, Build, Run) with on_shutdown = "delete":
// a plain stop leaves the record alone, a system shutdown deletes it.
func TestAgentShutdownWiring(t *testing.T) {
	for _, shuttingDown := range []bool{false, true} {
		t.Run(fmt.Sprintf("shutdown=%v", shuttingDown), func(t *testing.T) {
			e := newEnv(t, false)
			e.fclock.Set(time.Now()) // the agent signs with the real clock
			reg := protocols.NewRegistry()
			reg.Register(jumpcloud.Protocol())
			toml := fmt.Sprintf(`[agent]
state_dir = %q
splay = "1h"
[[server]]
name = "jc"
protocol = "jumpcloud"
url = %q
jcagent_conf = %q
system_groups = [%q]
on_shutdown = "delete"
shutdown_timeout = "5s"
`, filepath.Join(e.dir, "agentstate"), e.fake.URL(), e.conf, groupA)
			cfg, err := config.Parse([]byte(toml), "test.toml", reg)
			if err != nil {
				t.Fatal(err)
			}
			log := protocoltest.Logger(t)
			a, err := agent.Build(context.Background(), cfg, log, agent.Options{Registry: reg, Shutdown: fixedDetector(shuttingDown)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if err := a.Run(ctx); err != nil {
				t.Fatal(err)
			}
			v := e.fake.Inspect(sysID)
			if v.Deleted != shuttingDown || v.Counts["DELETE /api/systems/{id}"] != map[bool]int{false: 0, true: 1}[shuttingDown] {
				t.Errorf("deleted = %v, counts %v", v.Deleted, v.Counts)
			}
		})
	}
}
