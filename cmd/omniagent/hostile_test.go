package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"github.com/omniagent/omniagent/protocols/all"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/httpclient/hostile"
)

// silentListener accepts TCP connections and never says a word (an AMQP relay that hangs
// after the TCP handshake).
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}

// Every protocol against a server that sends its headers at once and then its body one byte
// at a time: `--oneshot` returns within a few request_timeouts and names the bound that cut
// each exchange.
func TestOneshotReturnsAgainstDrippingServers(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an RSA device key")
	}
	srv := httptest.NewServer(hostile.Drip(http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(`{"a":"`), time.Second)) // one byte a second
	t.Cleanup(srv.Close)
	relay := silentListener(t)
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "client.key")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "jcagent.conf")
	jc := fmt.Sprintf(`{"agentServerHost":"agent.jumpcloud.com","clientKey":%q,"systemKey":"5f0c1b2a3d4e5f6a7b8c9d01"}`, keyPath)
	if err := os.WriteFile(conf, []byte(jc), 0o600); err != nil {
		t.Fatal(err)
	}
	common := "request_timeout = \"1s\"\ntimeout = \"1s\"\n"
	servers := fmt.Sprintf(`[[server]]
name = "oco"
protocol = "oco"
url = "%[1]s/api-agent.php"
allow_plain_http = true
registration_key = "k"
%[2]s
[[server]]
name = "glpi"
protocol = "glpi"
url = "%[1]s/"
%[2]s
[[server]]
name = "rdfm"
protocol = "rdfm"
url = "%[1]s"
%[2]s
[[server]]
name = "jumpcloud"
protocol = "jumpcloud"
url = "%[1]s"
jcagent_conf = %[3]q
%[2]s
[[server]]
name = "mig"
protocol = "mig"
url = "%[1]s/api/v1"
relay = "amqp://guest:guest@%[4]s/mig"
heartbeat_transport = "amqp"
%[2]s`, srv.URL, common, conf, relay)
	cfg := writeConfig(t, servers)
	e, out, errb := testEnv()
	e.reg = all.Registry()
	start := time.Now()
	code := dispatch(context.Background(), e, []string{"--oneshot", "--config", cfg, "--log-level", "error"})
	took := time.Since(start)
	t.Logf("took %s\n%s", took, out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	if took > 30*time.Second {
		t.Errorf("--oneshot took %s against a dripping server", took)
	}
	// (The MIG API's heartbeat is tested in protocols/mig: --oneshot goes to the relay first.)
	want := map[string]string{"oco": "request_timeout exceeded", "glpi": "request_timeout exceeded",
		"rdfm": "request_timeout exceeded", "jumpcloud": "request_timeout exceeded", "mig": "i/o timeout"}
	for name, w := range want {
		line := ""
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.HasPrefix(l, name+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "failed") || !strings.Contains(line, w) {
			t.Errorf("%s: %q does not report a failure with %q", name, line, w)
		}
	}
}
