package httpclient_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/httpclient/proxytest"
)

func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b), err
}

// TestRealProxy runs requests through squid with Basic auth: https (CONNECT) and plain http
// (absolute form), accepted and refused (407 wrong password, 403 denied destination, 503
// unreachable server), from the proxy key and from HTTPS_PROXY.
func TestRealProxy(t *testing.T) {
	sq := proxytest.Start(t)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.Host) })
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	plain := httptest.NewServer(handler)
	defer plain.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	ca := caFile(t, tlsSrv)
	good := sq.URL(proxytest.User, proxytest.Password)
	bad := sq.URL(proxytest.User, "wr0ng-Passw0rd")
	httpsURL := "https://" + proxytest.Target(tlsSrv.URL) + "/"
	httpURL := "http://" + proxytest.Target(plain.URL) + "/"
	redacted := "http://" + proxytest.User + "@" + sq.Addr

	client := func(proxy string, env map[string]string) *http.Client {
		t.Helper()
		c, err := httpclient.New(httpclient.Options{Server: "s", CAFile: ca, Proxy: proxy, Timeout: 10 * time.Second, Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Accepted: both reach the server through the proxy.
	c0 := client(good, nil)
	for _, u := range []string{httpsURL, httpURL} {
		body, err := get(t, c0, u)
		if err != nil || body != "200 hello "+strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), "/") {
			t.Fatalf("GET %s through the proxy: %q %v", u, body, err)
		}
	}
	// squid logs a tunnel when it ends.
	httpclient.CloseIdle(c0)
	sq.WaitLog(t, "CONNECT "+proxytest.Target(tlsSrv.URL), "GET "+httpURL)

	tests := []struct {
		name, proxy, url string
		env              map[string]string
		want             string
	}{
		{"https wrong password", bad, httpsURL, nil,
			"proxy " + redacted + " refused CONNECT " + proxytest.Target(tlsSrv.URL) + ": 407 Proxy Authentication Required (check the proxy user and password: the server's proxy key)"},
		{"http wrong password", bad, httpURL, nil,
			"proxy " + redacted + " refused GET " + proxytest.Target(plain.URL) + ": 407 Proxy Authentication Required (check the proxy user and password: the server's proxy key)"},
		{"https from HTTPS_PROXY", "", httpsURL, map[string]string{"HTTPS_PROXY": bad},
			"refused CONNECT " + proxytest.Target(tlsSrv.URL) + ": 407 Proxy Authentication Required (check the proxy user and password: HTTPS_PROXY)"},
		{"http from http_proxy", "", httpURL, map[string]string{"http_proxy": bad},
			"refused GET " + proxytest.Target(plain.URL) + ": 407 Proxy Authentication Required (check the proxy user and password: http_proxy)"},
		{"https denied destination", good, "https://" + proxytest.DeniedHost + ":443/", nil,
			"proxy " + redacted + " refused CONNECT " + proxytest.DeniedHost + ":443: 403 Forbidden (the proxy's rules deny this destination or port"},
		{"http denied destination", good, "http://" + proxytest.DeniedHost + "/", nil,
			"proxy " + redacted + " refused GET " + proxytest.DeniedHost + ":80: 403 Forbidden (the proxy's rules deny this destination"},
		{"https unreachable server", good, fmt.Sprintf("https://%s:%d/", proxytest.Host, closedPort), nil,
			fmt.Sprintf("refused CONNECT %s:%d: 503 Service Unavailable (the proxy could not reach the server", proxytest.Host, closedPort)},
		{"http unreachable server", good, fmt.Sprintf("http://%s:%d/", proxytest.Host, closedPort), nil,
			fmt.Sprintf("refused GET %s:%d: 503 Service Unavailable (the proxy could not reach the server", proxytest.Host, closedPort)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := get(t, client(tc.proxy, tc.env), tc.url)
			if err == nil {
				t.Fatalf("no error; got %q", body)
			}
			if !errors.Is(err, httpclient.ErrProxyRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n %v\nwant it to contain:\n %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "wr0ng") || strings.Contains(err.Error(), proxytest.Password) {
				t.Fatalf("a password is in the error: %v", err)
			}
		})
	}
}

// TestRealProxyWebSocket dials ws:// and wss:// through squid: both go through a CONNECT
// tunnel (sent in absolute form, a ws:// upgrade is refused by the proxy).
func TestRealProxyWebSocket(t *testing.T) {
	sq := proxytest.Start(t)
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, b, err := c.Read(r.Context())
		if err != nil {
			return
		}
		c.Write(r.Context(), typ, append([]byte("echo "), b...))
		c.Close(websocket.StatusNormalClosure, "")
	})
	plain := httptest.NewServer(echo)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(echo)
	defer tlsSrv.Close()
	ca := caFile(t, tlsSrv)
	dial := func(proxy, u string) (string, error) {
		c, err := httpclient.New(httpclient.Options{Server: "s", CAFile: ca, Proxy: proxy, ForceHTTP1: true, Timeout: 10 * time.Second, Getenv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c})
		if err != nil {
			return "", err
		}
		defer ws.CloseNow()
		if err := ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
			return "", err
		}
		_, b, err := ws.Read(ctx)
		return string(b), err
	}
	for _, u := range []string{"ws://" + proxytest.Target(plain.URL) + "/ws", "wss://" + proxytest.Target(tlsSrv.URL) + "/ws"} {
		got, err := dial(sq.URL(proxytest.User, proxytest.Password), u)
		if err != nil || got != "echo hi" {
			t.Fatalf("%s through the proxy: %q %v", u, got, err)
		}
		_, err = dial(sq.URL(proxytest.User, "wr0ng-Passw0rd"), u)
		if !errors.Is(err, httpclient.ErrProxyRefused) || !strings.Contains(err.Error(), "407 Proxy Authentication Required (check the proxy user and password") || strings.Contains(err.Error(), "wr0ng") {
			t.Fatalf("%s with a wrong proxy password: %v", u, err)
		}
	}
	sq.WaitLog(t, "CONNECT "+proxytest.Target(plain.URL), "CONNECT "+proxytest.Target(tlsSrv.URL))
}
