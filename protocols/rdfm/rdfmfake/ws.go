package rdfmfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Message is one device→server message as received.
type Message map[string]any

// deviceMethods are the only methods the real server accepts from a device.
var deviceMethods = map[string][]string{
	"capability_report":      {"capabilities"},
	"action_list_update":     {"actions"},
	"action_exec_control":    {"execution_id", "status"},
	"action_exec_result":     {"execution_id", "status_code", "output"},
	"fs_file_probe_reply":    {"id", "status", "size"},
	"fs_file_download_reply": {"id", "status", "etags"},
	"update_progress":        {"progress"},
	"update_version":         {"version"},
}

type wsConn struct {
	c       *websocket.Conn
	pending map[string]bool // execution ids awaiting control/result
}

// Received returns a channel of every valid message the device sent (buffered; tests read it).
func (s *Server) Received() <-chan Message { return s.recv }

// Connections is how many management sockets were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// CloseDevice closes the current management socket with code (to test reconnects).
func (s *Server) CloseDevice(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c != nil {
		c.c.Close(code, reason)
	}
}

// RunAction asks the device to run actionID and returns the execution id.
func (s *Server) RunAction(ctx context.Context, actionID string) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	c := s.cur
	if c != nil {
		c.pending[id] = true
	}
	s.mu.Unlock()
	if c == nil {
		return "", fmt.Errorf("device not connected")
	}
	msg, _ := json.Marshal(map[string]any{"method": "action_exec", "execution_id": id, "action_id": actionID})
	return id, c.c.Write(ctx, websocket.MessageText, msg)
}

// SocketsDown makes new management sockets fail at the handshake (502, as the reverse proxy
// in front of a restarting server answers) while down is true.
func (s *Server) SocketsDown(down bool) { s.socketsDown.Store(down) }

func (s *Server) ws(w http.ResponseWriter, r *http.Request) {
	if s.socketsDown.Load() {
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return
	}
	mac, ok := s.verifyToken(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	dup := s.cur != nil
	s.mu.Unlock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	if dup {
		c.Close(4002, "device already connected")
		return
	}
	wc := &wsConn{c: c, pending: map[string]bool{}}
	s.mu.Lock()
	s.cur = wc
	s.conns++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.cur == wc {
			s.cur = nil
		}
		s.mu.Unlock()
	}()
	ctx := r.Context()
	c.Write(ctx, websocket.MessageText, []byte(`{"method":"alert","alert":{"message":"connected"}}`))
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.Close(websocket.StatusUnsupportedData, "device socket requires text-mode encoding")
			return
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.Close(4001, "invalid request")
			return
		}
		method, _ := m["method"].(string)
		fields, ok := deviceMethods[method]
		if !ok {
			c.Close(4001, "invalid request: method "+method)
			return
		}
		for _, f := range fields {
			if v, present := m[f]; !present || v == nil {
				c.Close(4001, "invalid request: "+f)
				return
			}
		}
		switch method {
		case "capability_report":
			caps, _ := m["capabilities"].(map[string]any)
			if caps["action"] == true {
				c.Write(ctx, websocket.MessageText, []byte(`{"method":"action_list_query"}`))
			}
		case "action_list_update":
			s.mu.Lock()
			q := s.queued
			s.queued = nil
			for _, e := range q {
				wc.pending[e[0]] = true
			}
			s.mu.Unlock()
			for _, e := range q {
				msg, _ := json.Marshal(map[string]any{"method": "action_exec", "execution_id": e[0], "action_id": e[1]})
				c.Write(ctx, websocket.MessageText, msg)
			}
		case "fs_file_probe_reply", "fs_file_download_reply":
			id, _ := m["id"].(string)
			s.mu.Lock()
			known := wc.pending[id]
			delete(wc.pending, id)
			s.mu.Unlock()
			if !known {
				c.Close(4001, "invalid filesystem response")
				return
			}
		case "update_version":
			// As the real server: the stored rdfm.software.version is rewritten at once.
			s.mu.Lock()
			if md := s.metadata[mac]; md != nil {
				md["rdfm.software.version"] = m["version"]
			}
			s.mu.Unlock()
		case "action_exec_control", "action_exec_result":
			id, _ := m["execution_id"].(string)
			s.mu.Lock()
			known := wc.pending[id]
			if method == "action_exec_result" || m["status"] == "full" {
				delete(wc.pending, id)
			}
			s.mu.Unlock()
			if !known {
				c.Close(4001, "Invalid execution "+id)
				return
			}
		}
		select {
		case s.recv <- m:
		default: // tests not reading: drop
		}
	}
}

// OpenShell sends shell_attach to the device and returns its attach socket (the manager side),
// failing when the device does not attach within the server's 5 s deadline.
func (s *Server) OpenShell(ctx context.Context, mac string) (*websocket.Conn, error) {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	ch := make(chan *websocket.Conn, 1)
	s.mu.Lock()
	c := s.cur
	s.shells[id] = ch
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("device not connected")
	}
	msg, _ := json.Marshal(map[string]any{"method": "shell_attach", "mac_addr": mac, "uuid": id})
	if err := c.c.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, err
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case conn := <-ch:
		return conn, nil
	case <-t.C:
		s.mu.Lock()
		delete(s.shells, id)
		s.mu.Unlock()
		return nil, fmt.Errorf("device did not attach shell %s within 5 s", id)
	}
}

func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.verifyToken(w, r); !ok {
		return
	}
	id := r.PathValue("uuid")
	s.mu.Lock()
	s.attachMACs = append(s.attachMACs, r.PathValue("mac"))
	ch, ok := s.shells[id]
	delete(s.shells, id)
	s.mu.Unlock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	if !ok {
		c.Close(4001, "invalid shell session identifier")
		return
	}
	done := make(chan struct{})
	// The test holds the device's socket directly (the manager's end of the relay); the
	// handler must stay until the socket is closed.
	ch <- c
	go func() {
		<-r.Context().Done()
		close(done)
	}()
	<-done
}

// QueueAction queues an action for when the device next reports its action list (as the
// server does for a device that was offline); it returns the execution id.
func (s *Server) QueueAction(actionID string) string {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	s.queued = append(s.queued, [2]string{id, actionID})
	s.mu.Unlock()
	return id
}

// AttachMACs lists the MAC in the URL of every shell attach the device made.
func (s *Server) AttachMACs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.attachMACs...)
}
