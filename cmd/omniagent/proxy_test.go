package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/omniagent/omniagent/protocols/all"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/httpclient/proxytest"
	"github.com/omniagent/omniagent/protocols"
)

// netAdapter builds its HTTP client as every protocol does and GETs the server's URL each cycle.
type netAdapter struct {
	c   *http.Client
	url string
}

func (a netAdapter) Cycle(ctx context.Context) (protocols.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url, nil)
	if err != nil {
		return protocols.Result{}, err
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return protocols.Result{}, fmt.Errorf("net: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return protocols.Result{Summary: resp.Status}, nil
}

func netEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	e, out, errb := testEnv()
	e.reg.Register(protocols.Protocol{
		Name: "net",
		New: func(d protocols.Deps) (protocols.Adapter, error) {
			c, err := d.HTTP(false)
			if err != nil {
				return nil, err
			}
			return netAdapter{c: c, url: d.Server.URL}, nil
		},
	})
	return e, out, errb
}

// runAll runs config check, a oneshot run at debug level and status on cfg, and returns
// everything they printed.
func runAll(t *testing.T, cfg string) string {
	t.Helper()
	var all strings.Builder
	for _, args := range [][]string{
		{"config", "check", cfg},
		{"run", "--oneshot", "--config", cfg, "--log-level", "debug"},
		{"status", "--config", cfg},
	} {
		e, out, errb := netEnv()
		code := dispatch(context.Background(), e, args)
		fmt.Fprintf(&all, "$ %s (exit %d)\n%s%s", strings.Join(args, " "), code, out, errb)
	}
	return all.String()
}

// TestProxySecretNeverPrinted: malformed proxy keys and HTTPS_PROXY/HTTP_PROXY values reach
// config check, the agent's start and status; the password is in none of their output.
func TestProxySecretNeverPrinted(t *testing.T) {
	const secret = "S3cretPw"
	// The proxies are on a closed loopback port: nothing leaves the machine.
	values := []string{
		"http://user:50%off" + secret + "@127.0.0.1:9", // raw '%'
		"http://user:a " + secret + "@127.0.0.1:9",     // space
		"user:" + secret + "@127.0.0.1:9",              // no scheme
		"http://user:12/" + secret + "@127.0.0.1:9",    // '/' in the password
		"ftp://user:" + secret + "@127.0.0.1:9",        // wrong scheme
	}
	for i, v := range values {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			// The proxy key.
			cfg := writeConfig(t, fmt.Sprintf("[[server]]\nname = \"n\"\nprotocol = \"net\"\nurl = \"https://srv.example/\"\nproxy = %q\n", v))
			out := runAll(t, cfg)
			if strings.Contains(out, secret) {
				t.Fatalf("proxy key %q: the password is printed:\n%s", v, out)
			}
			if !strings.Contains(out, "is not a proxy URL") {
				t.Fatalf("proxy key %q: no error:\n%s", v, out)
			}
			// The environment.
			for _, name := range []string{"HTTPS_PROXY", "http_proxy"} {
				t.Setenv(name, v)
				cfg := writeConfig(t, "[[server]]\nname = \"n\"\nprotocol = \"net\"\nurl = \"https://srv.example/\"\n")
				out := runAll(t, cfg)
				if strings.Contains(out, secret) {
					t.Fatalf("%s=%q: the password is printed:\n%s", name, v, out)
				}
				// Without a scheme, an environment value means http:// (as Go reads it).
				if !strings.Contains(out, "environment variable "+name) && !strings.HasPrefix(v, "user:") {
					t.Fatalf("%s=%q: the variable is not named:\n%s", name, v, out)
				}
				t.Setenv(name, "")
			}
		})
	}
}

// TestProxyRefusalThroughSquid: a wrong proxy password against a real squid is reported as the
// proxy's refusal by the run and by status, without the password; config check and the
// "server configured" line show the proxy in effect, redacted.
func TestProxyRefusalThroughSquid(t *testing.T) {
	sq := proxytest.Start(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	defer srv.Close()
	const wrong = "Wr0ngPassw0rd"
	url := "http://" + proxytest.Target(srv.URL) + "/"
	cfg := writeConfig(t, fmt.Sprintf("[[server]]\nname = \"n\"\nprotocol = \"net\"\nurl = %q\nproxy = %q\n\n[[server]]\nname = \"local\"\nprotocol = \"net\"\nurl = %q\nproxy = %q\n",
		url, sq.URL(proxytest.User, wrong), srv.URL, sq.URL(proxytest.User, wrong)))
	out := runAll(t, cfg)
	redacted := "http://" + proxytest.User + "@" + sq.Addr
	for _, want := range []string{
		"n: proxy " + redacted + "\n",
		"local: proxy " + redacted + ", bypassed: loopback server",
		`msg="server configured" server=n protocol=net url=` + url + " proxy=" + redacted,
		"proxy " + redacted + " refused GET " + proxytest.Target(srv.URL) + ": 407 Proxy Authentication Required (check the proxy user and password: the server's proxy key)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// status shows the same error as the last one.
	if i := strings.Index(out, "$ status"); i < 0 || !strings.Contains(out[i:], "refused GET") {
		t.Errorf("status does not show the proxy's refusal")
	}
	if strings.Contains(out, wrong) || t.Failed() {
		t.Fatalf("password printed or lines missing:\n%s", out)
	}
}

// TestConfigCheckShowsRelayProxy: MIG's relay has its own proxy line, redacted.
func TestConfigCheckShowsRelayProxy(t *testing.T) {
	e, out, errb := testEnv()
	e.reg = all.Registry()
	cfg := writeConfig(t, "[[server]]\nname = \"m\"\nprotocol = \"mig\"\nurl = \"https://mig.example/api/v1\"\nproxy = \"none\"\n"+
		"relay = \"amqps://agent:RelayPw@relay.example:5671/mig\"\nrelay_proxy = \"http://u:ProxyPw@proxy.example:3128\"\n")
	if code := dispatch(context.Background(), e, []string{"config", "check", cfg}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for _, want := range []string{"m: proxy none\n", "m: relay relay_proxy http://u@proxy.example:3128 (CONNECT to the AMQP port)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "Pw") {
		t.Errorf("a password is printed:\n%s", out)
	}
}
