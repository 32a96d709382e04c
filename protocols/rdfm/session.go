package rdfm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/jobs"
)

// Management WebSocket close codes of the RDFM server.
const (
	closeInvalidRequest = 4001
	closeDuplicate      = 4002
)

// Serve keeps the management WebSocket open until ctx ends, reconnecting with back-off:
// 1 s doubling to 60 s with jitter, reset after a connection that lasted 30 s; 60 s after a
// 4002 (another socket for this device is still open).
func (a *Adapter) Serve(ctx context.Context) error {
	a.setSocketState("socket not connected yet")
	backoff := time.Second
	failures := 0 // short-lived connections in a row
	for {
		start := time.Now()
		wait, err := a.serveOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) >= 30*time.Second {
			backoff = time.Second
			failures = 0
		} else if err != nil && !errors.Is(err, ErrPending) { // waiting for acceptance is no failure
			failures++
		}
		d := max(wait, backoff)
		backoff = min(backoff*2, 60*time.Second)
		d += time.Duration(rand.Int64N(int64(d)/10 + 1))
		if failures >= persistentFailures {
			// Not a network blip: say so, with what to check.
			a.log.Warn("rdfm: management socket keeps failing; reconnecting", "err", err, "failures", failures, "in", d.Round(time.Millisecond), "hint", a.socketHint(err))
		} else {
			a.log.Info("rdfm: management socket ended; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// persistentFailures is how many short-lived connections in a row are logged at WARN.
const persistentFailures = 3

// socketHint says what to check when the management socket does not stay up.
func (a *Adapter) socketHint(err error) string {
	target := a.base.Host
	if errors.Is(err, httpclient.ErrProxyRefused) {
		return "the forward proxy refuses: check its credentials and that it allows CONNECT to " + target + " (the socket always goes through a CONNECT tunnel)"
	}
	return "check that " + target + " is reachable and that anything in between (a forward proxy: CONNECT to " + target + "; a reverse proxy: the Upgrade and Connection headers) lets WebSockets through"
}

// capabilities reports only what config enables.
func (a *Adapter) capabilities() map[string]bool {
	return map[string]bool{
		"shell":           a.opts.Shell && a.d.Jobs.Policy().AllowShell,
		"action":          len(a.opts.Actions) > 0 && a.d.Jobs.Policy().AllowExec,
		"filesystem":      len(a.opts.FSAllowedPaths) > 0,
		"update-progress": true,
	}
}

// serveOnce runs one connection; wait is a minimum delay before the next one.
func (a *Adapter) serveOnce(ctx context.Context) (wait time.Duration, err error) {
	return a.serve(ctx, false)
}

// drainIdle is how long a --oneshot session waits for further server requests.
const drainIdle = 3 * time.Second

// serve runs one connection; with drain it closes once the server has been quiet for drainIdle
// and no action is running (bounded to 2 minutes).
func (a *Adapter) serve(ctx context.Context, drain bool) (wait time.Duration, err error) {
	a.mu.Lock()
	err = a.load(ctx)
	a.mu.Unlock()
	if err == nil {
		err = a.auth(ctx, "")
	}
	token := a.currentToken()
	if err != nil {
		if errors.Is(err, ErrPending) {
			return a.opts.RetryInterval.D(), err
		}
		return 0, err
	}
	u := *a.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/api/v1/devices/ws"
	c, resp, err := websocket.Dial(httpclient.WithoutLimit(ctx), u.String(), &websocket.DialOptions{
		HTTPClient: a.wsClient,
		HTTPHeader: http.Header{"Authorization": {"Bearer token=" + token}},
	})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			a.dropToken(token) // re-auth before the next dial
		}
		err = fmt.Errorf("rdfm %s: management socket: %w", a.d.Server.Name, err)
		if !drain {
			a.setSocketState("socket disconnected: " + err.Error())
		}
		return 0, err
	}
	defer c.CloseNow()
	if !drain {
		a.setSocketState("socket connected since " + time.Now().UTC().Format(time.RFC3339))
		defer func() { a.setSocketState("socket disconnected: " + errText(err)) }()
	}
	c.SetReadLimit(1 << 20)
	s := &session{a: a, c: c, slots: make(chan struct{}, a.opts.ActionQueue), uploads: make(chan struct{}, maxUploads), activity: make(chan struct{}, 1)}
	if drain {
		go s.drainer(ctx)
	}
	err = s.run(ctx)
	if drain {
		if websocket.CloseStatus(err) == websocket.StatusNormalClosure && s.drained.Load() {
			return 0, nil
		}
		return 0, err
	}
	return closeWait(a, err), err
}

// closeWait is the minimum delay before reconnecting after the server closed with err's code.
func closeWait(a *Adapter, err error) time.Duration {
	switch websocket.CloseStatus(err) {
	case closeDuplicate:
		// Another socket for this device is still open; the server drops a dead one only
		// after about two missed 25 s pings.
		return 60 * time.Second
	case closeInvalidRequest, websocket.StatusUnsupportedData:
		a.log.Error("rdfm: server closed the management socket for a bad message", "err", err)
	}
	return 0
}

// maxUploads bounds the fs_file_download uploads one session runs at once.
const maxUploads = 4

type session struct {
	ctx     context.Context // the connection's lifetime: cancelling a write ctx closes the socket
	a       *Adapter
	c       *websocket.Conn
	slots   chan struct{} // bounded action queue
	uploads chan struct{} // file downloads running at once (maxUploads)

	activity chan struct{} // a server message arrived (oneshot drain)
	drained  atomic.Bool   // we closed the socket after draining
	ready    atomic.Bool   // the capability report went out: update reports may follow
}

// drainer closes the socket once the server is quiet and no action runs.
func (s *session) drainer(ctx context.Context) {
	limit := time.NewTimer(2 * time.Minute)
	defer limit.Stop()
	idle := time.NewTimer(drainIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.activity:
			idle.Reset(drainIdle)
		case <-idle.C:
			if len(s.slots) > 0 {
				idle.Reset(drainIdle / 3)
				continue
			}
			s.drained.Store(true)
			s.c.Close(websocket.StatusNormalClosure, "oneshot done")
			return
		case <-limit.C:
			s.drained.Store(true)
			s.c.Close(websocket.StatusNormalClosure, "oneshot time limit")
			return
		}
	}
}

func (s *session) send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return s.c.Write(ctx, websocket.MessageText, b)
}

func (s *session) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.ctx = ctx
	s.a.sessMu.Lock()
	s.a.sess = s
	s.a.sessMu.Unlock()
	defer func() {
		s.a.sessMu.Lock()
		if s.a.sess == s {
			s.a.sess = nil
		}
		s.a.sessMu.Unlock()
	}()
	sentCaps := false
	for {
		typ, data, err := s.c.Read(ctx)
		if err != nil {
			return err
		}
		select {
		case s.activity <- struct{}{}:
		default:
		}
		if typ != websocket.MessageText {
			continue
		}
		var msg struct {
			Method      string `json:"method"`
			ExecutionID string `json:"execution_id"`
			ActionID    string `json:"action_id"`
			ID          string `json:"id"`
		}
		if err := json.Unmarshal(data, &msg); err != nil {
			s.a.log.Warn("rdfm: undecodable server message", "err", err)
			continue
		}
		switch msg.Method {
		case "alert":
			s.a.log.Info("rdfm: server alert", "alert", string(data))
			if !sentCaps {
				sentCaps = true
				if err := s.send(ctx, map[string]any{"method": "capability_report", "capabilities": s.a.capabilities()}); err != nil {
					return err
				}
				// Progress or a version the previous socket could not take goes now.
				s.ready.Store(true)
				go s.a.flushReports()
			}
		case "action_list_query":
			list := []map[string]any{}
			if s.a.capabilities()["action"] {
				for _, ac := range s.a.opts.Actions {
					list = append(list, map[string]any{"action_id": ac.ID, "action_name": ac.Name, "description": ac.Description,
						"command": ac.Command, "timeout": ac.Timeout.D().Seconds()})
				}
			}
			if err := s.send(ctx, map[string]any{"method": "action_list_update", "actions": list}); err != nil {
				return err
			}
		case "action_exec":
			if err := s.actionExec(ctx, msg.ExecutionID, msg.ActionID); err != nil {
				return err
			}
		case "fs_file_probe":
			// Always answer, also on refusal: the server has no timeout for fs replies.
			var req struct {
				File string `json:"file"`
			}
			_ = json.Unmarshal(data, &req)
			reply := map[string]any{"method": "fs_file_probe_reply", "id": msg.ID, "status": 1, "size": 0}
			if _, size, err := s.a.allowedFile(req.File); err == nil {
				reply["status"], reply["size"] = 0, size
			} else {
				s.a.log.Warn("rdfm: file probe refused", "file", req.File, "err", err)
			}
			if err := s.send(ctx, reply); err != nil {
				return err
			}
		case "fs_file_download":
			var req struct {
				File     string   `json:"file"`
				URLs     []string `json:"upload_urls"`
				PartSize int64    `json:"part_size"`
			}
			_ = json.Unmarshal(data, &req)
			select {
			case s.uploads <- struct{}{}:
				go func() {
					defer func() { <-s.uploads }()
					s.fileDownload(ctx, msg.ID, req.File, req.URLs, req.PartSize)
				}()
			default:
				// Refuse rather than queue: each upload holds a file open and a connection.
				s.a.log.Warn("rdfm: file download refused: too many at once", "file", req.File, "max", maxUploads)
				if err := s.send(ctx, map[string]any{"method": "fs_file_download_reply", "id": msg.ID, "status": 1, "etags": []string{}}); err != nil {
					return err
				}
			}
		case "shell_attach":
			var att struct {
				MAC  string `json:"mac_addr"`
				UUID string `json:"uuid"`
			}
			_ = json.Unmarshal(data, &att)
			s.shellAttach(ctx, att.MAC, att.UUID)
		default:
			// Unknown methods: no reply message exists.
			s.a.log.Warn("rdfm: unsupported server request ignored", "method", msg.Method)
		}
	}
}

func (s *session) actionExec(ctx context.Context, execID, actionID string) error {
	var act *Action
	for i := range s.a.opts.Actions {
		if s.a.opts.Actions[i].ID == actionID {
			act = &s.a.opts.Actions[i]
		}
	}
	select {
	case s.slots <- struct{}{}:
	default:
		return s.send(ctx, map[string]any{"method": "action_exec_control", "execution_id": execID, "status": "full"})
	}
	if err := s.send(ctx, map[string]any{"method": "action_exec_control", "execution_id": execID, "status": "ok"}); err != nil {
		<-s.slots
		return err
	}
	go func() {
		code, out := -1, []byte(nil)
		switch {
		case act == nil:
			out = []byte("unknown action " + actionID)
		case !s.a.d.Jobs.Policy().AllowExec:
			out = []byte("refused: allow_exec is off")
		default:
			res, err := s.a.d.Jobs.Exec(ctx, jobs.Command{Argv: act.Command, Timeout: act.Timeout.D(), MaxOutput: 1 << 20})
			switch {
			case err != nil:
				out = []byte(err.Error())
			case res.TimedOut:
				code, out = -1, append(res.Output, []byte("\n[timed out after "+act.Timeout.D().String()+"]")...)
			default:
				code, out = res.ExitCode, res.Output
			}
		}
		<-s.slots // free before the result goes out, so the server may queue the next one
		if err := s.send(ctx, map[string]any{"method": "action_exec_result", "execution_id": execID,
			"status_code": code, "output": base64.StdEncoding.EncodeToString(out)}); err != nil && ctx.Err() == nil {
			s.a.log.Warn("rdfm: action result not delivered", "execution", execID, "err", strings.TrimSpace(err.Error()))
		}
	}()
	return nil
}

// reports keeps what the server must hear about the running update: the latest progress
// and, once installed, the new version. Only the latest values matter, so memory stays
// bounded; they go out when the socket is up, again after a reconnect while not yet sent.
type reports struct {
	mu     sync.Mutex // held while sending, so reports go out in order
	active bool       // an update is running or its end is not delivered yet
	pct    int
	sent   bool   // pct was delivered on the current socket
	ver    string // update_version not delivered yet
	on     *session
}

func (r *reports) progress(pct int) {
	r.mu.Lock()
	r.active, r.pct, r.sent = true, pct, false
	r.mu.Unlock()
}

// version records a finished install: progress 100, then the version.
func (r *reports) version(v string) {
	r.mu.Lock()
	r.active, r.pct, r.sent, r.ver = true, 100, false, v
	r.mu.Unlock()
}

// abandon forgets a failed update: RDFM has no failure message, so reporting stops.
func (r *reports) abandon() {
	r.mu.Lock()
	r.active, r.ver = false, ""
	r.mu.Unlock()
}

// reportWriteTimeout bounds one report write on a stalled socket.
const reportWriteTimeout = 10 * time.Second

// flushReports sends what the server has not heard yet on the live socket, if any. Called
// after every new report and when a socket has sent its capability report.
func (a *Adapter) flushReports() {
	a.sessMu.Lock()
	s := a.sess
	a.sessMu.Unlock()
	r := &a.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == nil || s.ctx == nil || !s.ready.Load() || !r.active {
		return
	}
	if r.on != s {
		r.on, r.sent = s, false // a new socket: say where the update stands again
	}
	ctx, cancel := context.WithTimeout(s.ctx, reportWriteTimeout)
	defer cancel()
	if !r.sent {
		if err := s.send(ctx, map[string]any{"method": "update_progress", "progress": r.pct}); err != nil {
			a.log.Debug("rdfm: progress kept for the next socket", "progress", r.pct, "err", err)
			return
		}
		r.sent = true
	}
	if r.ver != "" {
		if err := s.send(ctx, map[string]any{"method": "update_version", "version": r.ver}); err != nil {
			a.log.Debug("rdfm: version kept for the next socket", "version", r.ver, "err", err)
			return
		}
		a.log.Info("rdfm: new version reported to the server", "version", r.ver)
		r.ver, r.active = "", false
	}
}

func errText(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
