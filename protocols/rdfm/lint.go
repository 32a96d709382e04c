package rdfm

import (
	"fmt"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
)

// Lint warns about capabilities enabled here but refused by the job policy at run time.
func (o *Options) Lint(_ config.Server, exec, shell, _ bool) []config.Warning {
	var ws []config.Warning
	if o.Shell && !shell {
		ws = append(ws, config.Warning{Key: "shell", Msg: "shell = true without allow_shell = true ([jobs] or this server): every shell request will be refused"})
	}
	if len(o.Actions) > 0 && !exec {
		ws = append(ws, config.Warning{Key: "actions", Msg: "[[server.actions]] without allow_exec = true ([jobs] or this server): every action will be refused"})
	}
	if len(o.InstallCommand) > 0 && !exec {
		ws = append(ws, config.Warning{Key: "install_command", Msg: "install_command without allow_exec = true ([jobs] or this server): updates will be downloaded but never installed"})
	}
	return ws
}

// Schedule describes when the adapter talks to the server.
func (o *Options) Schedule(interval time.Duration) string {
	return fmt.Sprintf("update check every %s (every %s while waiting for acceptance); management socket kept open by the daemon", interval, o.RetryInterval.D())
}

// Status names RDFM's poll (the update check) and the management socket's state.
func (a *Adapter) Status() protocols.Status {
	a.sessMu.Lock()
	defer a.sessMu.Unlock()
	return protocols.Status{Cycle: "update check", Session: a.socketState}
}

// setSocketState records the management socket's state for Status.
func (a *Adapter) setSocketState(s string) {
	a.sessMu.Lock()
	a.socketState = s
	a.sessMu.Unlock()
}
