package mig_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/httpclient/hostile"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig"
)

// silentRelay speaks AMQP 0-9-1 just far enough to open the connection (start, tune,
// open-ok) and then never answers again: channel.open waits forever.
func silentRelay(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	method := func(class, id uint16, args []byte) []byte {
		payload := binary.BigEndian.AppendUint16(nil, class)
		payload = binary.BigEndian.AppendUint16(payload, id)
		payload = append(payload, args...)
		f := []byte{1, 0, 0}
		f = binary.BigEndian.AppendUint32(f, uint32(len(payload)))
		return append(append(f, payload...), 0xCE)
	}
	readFrame := func(r *bufio.Reader) error {
		var h [7]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return err
		}
		_, err := io.CopyN(io.Discard, r, int64(binary.BigEndian.Uint32(h[3:]))+1)
		return err
	}
	longstr := func(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				var hdr [8]byte
				if _, err := io.ReadFull(r, hdr[:]); err != nil {
					return
				}
				start := append([]byte{0, 9}, binary.BigEndian.AppendUint32(nil, 0)...) // version, empty properties
				start = append(append(start, longstr("PLAIN")...), longstr("en_US")...)
				c.Write(method(10, 10, start))
				if readFrame(r) != nil { // start-ok
					return
				}
				tune := binary.BigEndian.AppendUint16(nil, 0)
				tune = binary.BigEndian.AppendUint32(tune, 131072)
				tune = binary.BigEndian.AppendUint16(tune, 0)
				c.Write(method(10, 30, tune))
				if readFrame(r) != nil || readFrame(r) != nil { // tune-ok, open
					return
				}
				c.Write(method(10, 41, []byte{0}))
				io.Copy(io.Discard, r) // and never a word again
			}()
		}
	}()
	return ln.Addr().String()
}

func hostileAdapter(t *testing.T, url, relay string, transport string, oneshot bool) *mig.Adapter {
	t.Helper()
	e := newEnv(t, "")
	e.opts.Relay = "amqp://guest:guest@" + relay + "/mig"
	e.opts.HeartbeatTransport = transport
	srv := config.Server{Name: "mig1", Protocol: "mig", URL: url, Options: e.opts, RequestTimeout: config.Duration(time.Second)}
	a, err := mig.New(protocols.Deps{
		Server: srv, Logger: slog.New(slog.DiscardHandler), Inventory: e.inv, State: e.store.Server(srv.Name),
		Identity: identity.Identity{Hostname: "vm", AgentVersion: "1.4.0-test"},
		HTTP: func(h1 bool) (*http.Client, error) {
			return httpclient.New(httpclient.Options{Server: srv.Name, ForceHTTP1: h1, Proxy: "none", RequestTimeout: time.Second})
		},
		Options: protocols.Options{Oneshot: oneshot},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The HTTP heartbeat against an API dripping its answer, and the relay set-up against a relay
// that opens the connection and then goes silent, both end with a clear error in about
// request_timeout.
func TestHostileServersAreBounded(t *testing.T) {
	drip := httptest.NewServer(hostile.Drip(http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`"1.2.3.4`), time.Second)) // one byte a second
	t.Cleanup(drip.Close)
	relay := silentRelay(t)
	tests := []struct {
		name      string
		transport string
		oneshot   bool
		want      string
	}{
		{"HTTP heartbeat, dripping API", mig.HeartbeatHTTP, false, "request_timeout exceeded"},
		{"check-in, silent relay", mig.HeartbeatHTTP, true, "relay set-up did not finish within 1s"},
		{"AMQP heartbeat, silent relay", mig.HeartbeatAMQP, false, "relay set-up did not finish within 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := hostileAdapter(t, drip.URL+"/api/v1", relay, tc.transport, tc.oneshot)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			_, err := a.Cycle(ctx)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil || took > 5*time.Second {
				t.Fatalf("the cycle took %s: only the test's own deadline ended it", took)
			}
		})
	}
}
