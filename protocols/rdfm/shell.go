package rdfm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/lazyre"
)

var resizeRe = &lazyre.Regexp{Expr: `^resize (\d{1,5}) (\d{1,5})$`}

// uuidRe is the shell session id the server generates (UUID, any version).
var uuidRe = &lazyre.Regexp{Expr: `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`}

// ParseResize reads a "resize <rows> <cols>" control frame; ok is false for anything else.
func ParseResize(s string) (jobs.Size, bool) {
	m := resizeRe.Get().FindStringSubmatch(s)
	if m == nil {
		return jobs.Size{}, false
	}
	r, _ := strconv.Atoi(m[1])
	c, _ := strconv.Atoi(m[2])
	if r < 1 || c < 1 || r > 65535 || c > 65535 {
		return jobs.Size{}, false
	}
	return jobs.Size{Rows: uint16(r), Cols: uint16(c)}, true
}

// shellAttach starts one shell session in the background; over the cap or when the capability
// is off the request is dropped (no refusal message exists in the protocol).
func (s *session) shellAttach(ctx context.Context, mac, id string) {
	a := s.a
	if !a.capabilities()["shell"] {
		a.log.Warn("rdfm: shell_attach refused: shell is not enabled")
		return
	}
	a.sessMu.Lock()
	if a.shells >= a.opts.MaxShells {
		a.sessMu.Unlock()
		a.log.Warn("rdfm: shell_attach dropped: too many shells", "max", a.opts.MaxShells)
		return
	}
	a.shells++
	a.sessMu.Unlock()
	go func() {
		defer func() {
			a.sessMu.Lock()
			a.shells--
			a.sessMu.Unlock()
		}()
		if err := a.runShell(ctx, mac, id); err != nil {
			a.log.Warn("rdfm: shell session", "uuid", id, "err", err)
		}
	}()
}

func (a *Adapter) runShell(ctx context.Context, mac, id string) error {
	if !uuidRe.Get().MatchString(id) {
		return fmt.Errorf("shell_attach: session id %q is not a UUID", id)
	}
	err := a.auth(ctx, "")
	token := a.currentToken()
	a.mu.Lock()
	own := a.st.MAC
	a.mu.Unlock()
	if err != nil {
		return err
	}
	// The server does not check the MAC in the attach URL against the token: always use ours.
	if !strings.EqualFold(mac, own) {
		a.log.Warn("rdfm: shell_attach names another device; attaching as this one", "mac_addr", mac, "device", own)
		mac = own
	}
	u := *a.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/api/v1/devices/" + url.PathEscape(mac) + "/shell/attach/" + url.PathEscape(id)
	// The server waits 5 s for the attach.
	dctx, cancel := context.WithTimeout(httpclient.WithoutLimit(ctx), 5*time.Second)
	c, _, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient: a.wsClient,
		HTTPHeader: http.Header{"Authorization": {"Bearer token=" + token}},
	})
	cancel()
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 10)
	sh, err := a.d.Jobs.Shell(ctx, jobs.ShellOptions{Rows: 24, Cols: 80, Env: []string{"TERM=xterm-256color"}})
	if err != nil {
		c.Close(websocket.StatusNormalClosure, "shell refused")
		return err
	}
	defer sh.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Manager → shell: binary = keystrokes, text = resize control.
	go func() {
		defer stop()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				sh.Close() // the manager left: kill the shell's process group
				return
			}
			if typ == websocket.MessageBinary {
				if _, err := sh.Write(data); err != nil {
					return
				}
			} else if sz, ok := ParseResize(string(data)); ok {
				_ = sh.Resize(sz)
			}
		}
	}()
	buf := make([]byte, 16<<10)
	for {
		n, rerr := sh.Read(buf)
		if n > 0 {
			if err := c.Write(ctx, websocket.MessageBinary, buf[:n]); err != nil {
				return nil
			}
		}
		if rerr != nil {
			break // EIO/EOF: the shell exited
		}
	}
	c.Close(websocket.StatusNormalClosure, "shell exited")
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.Canceled) {
		return ctx.Err()
	}
	return nil
}
