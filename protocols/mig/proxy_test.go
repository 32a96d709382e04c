package mig_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient/proxytest"
	"github.com/omniagent/omniagent/protocols/mig/action"
)

// connectProxy is a minimal HTTP CONNECT proxy requiring user u, password p.
func connectProxy(t *testing.T) (addr string, tunnels *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tunnels = &atomic.Int32{}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if req.Method != http.MethodConnect || req.Header.Get("Proxy-Authorization") != want {
					io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
					return
				}
				up, err := net.DialTimeout("tcp", req.Host, 5*time.Second)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer up.Close()
				tunnels.Add(1)
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go io.Copy(up, br)
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), tunnels
}

func TestRelayThroughConnectProxy(t *testing.T) {
	t.Parallel()
	broker := brokerURL(t)
	e := newEnv(t, broker)
	addr, tunnels := connectProxy(t)
	e.opts.RelayProxy = "http://u:p@" + addr
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(true)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ql := a.QueueLoc()
	e.fake.Forget(ql)
	if tunnels.Load() < 1 {
		t.Fatal("the relay was not reached through the proxy")
	}
	hb := e.fake.Heartbeats()[0].Environment
	if !hb.IsProxied || hb.Proxy != addr {
		t.Errorf("environment isProxied=%v proxy=%q, want true %q", hb.IsProxied, hb.Proxy, addr)
	}
	row, _ := e.fake.Agent(ql)
	id, err := e.fake.Send(ctx, row, signed(t, "file passwd", []action.Operation{e.fileOp()}, alice))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.adapter(true).Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := e.fake.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvelope(t, v, ql)

	// Wrong credentials: the proxy's refusal is reported.
	e.opts.RelayProxy = "http://u:wrong@" + addr
	_, err = e.adapter(true).Cycle(ctx)
	if err == nil || !strings.Contains(err.Error(), "407") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("Cycle with bad proxy credentials = %v", err)
	}
}

// TestRelayThroughSquid reaches the relay through a real squid with Basic auth (CONNECT to the
// AMQP port); a wrong password is the proxy's refusal naming relay_proxy, never the password.
func TestRelayThroughSquid(t *testing.T) {
	broker := brokerURL(t)
	sq := proxytest.Start(t)
	e := newEnv(t, broker)
	e.opts.RelayProxy = sq.URL(proxytest.User, proxytest.Password)
	ctx := ctxT(t, 60*time.Second)
	a := e.adapter(true)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.Forget(a.QueueLoc()) // the durable queue is the fake's to delete at the end
	u, _ := url.Parse(broker)
	sq.WaitLog(t, "CONNECT "+u.Host)

	e.opts.RelayProxy = sq.URL(proxytest.User, "wr0ng-Passw0rd")
	_, err := e.adapter(true).Cycle(ctx)
	want := "proxy http://" + proxytest.User + "@" + sq.Addr + " refused CONNECT " + u.Host + ": 407 Proxy Authentication Required (check the proxy user and password: the server's relay_proxy key)"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "wr0ng") {
		t.Errorf("Cycle with a wrong proxy password = %v\nwant it to contain %s", err, want)
	}
}
