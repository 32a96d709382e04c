// Package control is the local control channel of the running daemon: `omniagent trigger`
// and `omniagent status` talk to it. It is a unix socket in the state folder (0600, callers
// checked by their peer credentials: root or the daemon's own user) on Linux and macOS, and a
// named pipe that only SYSTEM and Administrators may open on Windows.
//
// The exchange is one JSON request line and one JSON answer line per connection.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Commands.
const (
	CmdPing    = "ping"
	CmdTrigger = "trigger"
	CmdStatus  = "status"
)

const (
	maxRequest     = 4 << 10          // a request line is a few dozen bytes
	requestTimeout = 5 * time.Second  // to send the request line
	maxConns       = 8                // connections served at once
	answerTimeout  = 10 * time.Second // to write the answer once ready
)

// Request is what a client asks.
type Request struct {
	Cmd         string `json:"cmd"`
	Server      string `json:"server,omitempty"` // trigger: one server; empty: all
	ForceUpdate bool   `json:"force_update,omitempty"`
}

// Response is the daemon's answer.
type Response struct {
	Error    string    `json:"error,omitempty"`
	Outcomes []Outcome `json:"outcomes,omitempty"` // trigger
	Live     *Live     `json:"live,omitempty"`     // status, ping
}

// Outcome is one server's cycle run by a trigger.
type Outcome struct {
	Server   string        `json:"server"`
	Protocol string        `json:"protocol"`
	Error    string        `json:"error,omitempty"`
	Summary  string        `json:"summary,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Next     time.Duration `json:"next"`
}

// Live is the daemon's state now.
type Live struct {
	PID     int          `json:"pid"`
	Started time.Time    `json:"started"`
	Version string       `json:"version,omitempty"`
	Servers []ServerLive `json:"servers"`
}

// ServerLive is one server's state in the daemon.
type ServerLive struct {
	Server          string    `json:"server"`
	Protocol        string    `json:"protocol"`
	Running         bool      `json:"running"`
	RunningSince    time.Time `json:"running_since,omitzero"`
	Pending         int       `json:"pending"` // trigger requests waiting for a cycle
	NextRun         time.Time `json:"next_run,omitzero"`
	Session         string    `json:"session,omitempty"`
	SessionFailures int       `json:"session_failures,omitempty"`
	// Details of the last cycle (queued inventory, results waiting, mode...).
	Details map[string]string `json:"details,omitempty"`
}

// Handler does what the daemon is asked.
type Handler interface {
	// Trigger runs the named server's cycle now (every server when name is empty) and
	// returns when the cycles have run.
	Trigger(ctx context.Context, name string, force bool) ([]Outcome, error)
	Live() Live
}

// ErrNoDaemon is returned by Call when no daemon answers.
var ErrNoDaemon = errors.New("no omniagent daemon answers")

// ErrDaemonRunning is returned by Listen when another daemon answers on the channel.
var ErrDaemonRunning = errors.New("another omniagent daemon answers on the control channel")

// Serve answers on ln until ctx ends, then closes ln.
func Serve(ctx context.Context, ln net.Listener, h Handler, log *slog.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	sem := make(chan struct{}, maxConns)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control channel: accept: %w", err)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			c.Close()
			return nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			serveConn(ctx, c, h, log)
		}()
	}
}

func serveConn(ctx context.Context, c net.Conn, h Handler, log *slog.Logger) {
	defer c.Close()
	if err := peerAllowed(c); err != nil {
		log.Warn("control channel: caller refused", "err", err)
		answer(c, Response{Error: "permission denied: " + err.Error()})
		return
	}
	c.SetReadDeadline(time.Now().Add(requestTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxRequest), maxRequest).ReadBytes('\n')
	if err != nil {
		answer(c, Response{Error: fmt.Sprintf("read request: %v", err)})
		return
	}
	c.SetReadDeadline(time.Time{})
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		answer(c, Response{Error: fmt.Sprintf("bad request: %v", err)})
		return
	}
	var resp Response
	switch req.Cmd {
	case CmdPing, CmdStatus:
		l := h.Live()
		resp.Live = &l
	case CmdTrigger:
		log.Info("control channel: trigger", "server", req.Server, "force_update", req.ForceUpdate)
		out, err := h.Trigger(ctx, req.Server, req.ForceUpdate)
		resp.Outcomes = out
		if err != nil {
			resp.Error = err.Error()
		}
	default:
		resp.Error = fmt.Sprintf("unknown command %q", req.Cmd)
	}
	answer(c, resp)
}

func answer(c net.Conn, r Response) {
	c.SetWriteDeadline(time.Now().Add(answerTimeout))
	b, _ := json.Marshal(r)
	c.Write(append(b, '\n'))
}

// Call sends req to the daemon of stateDir and returns its answer. ctx bounds the whole call
// (a trigger waits for the cycles).
func Call(ctx context.Context, stateDir string, req Request) (*Response, error) {
	c, err := dial(ctx, stateDir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	b, _ := json.Marshal(req)
	// A daemon refusing the caller answers and closes before reading: the write may fail
	// while its answer waits to be read.
	_, werr := c.Write(append(b, '\n'))
	line, err := bufio.NewReaderSize(io.LimitReader(c, 16<<20), 64<<10).ReadBytes('\n')
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if werr != nil {
			return nil, fmt.Errorf("control channel %s: send: %w", Address(stateDir), werr)
		}
		return nil, fmt.Errorf("control channel %s: read answer: %w", Address(stateDir), err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("control channel %s: bad answer: %w", Address(stateDir), err)
	}
	return &resp, nil
}

// Answers says whether a daemon answers on stateDir's channel (within two seconds).
func Answers(ctx context.Context, stateDir string) (*Live, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	r, err := Call(ctx, stateDir, Request{Cmd: CmdPing})
	if err != nil || r.Live == nil {
		return nil, false
	}
	return r.Live, true
}
