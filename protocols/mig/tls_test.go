package mig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/mig"
	"github.com/omniagent/omniagent/state"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, returning the paths and the pair.
func selfSigned(t *testing.T, dir string) (certPath, keyPath string, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, pair
}

// An amqps relay is verified with the server table's ca_file and gets its client certificate.
// The TLS peer here is not a broker: the handshake result is what is checked.
func TestAMQPSUsesServerTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath, pair := selfSigned(t, dir)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan int, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if tc.Handshake() == nil {
				peers <- len(tc.ConnectionState().PeerCertificates)
			}
			c.Close()
		}
	}()
	relay := "amqps://guest:guest@" + ln.Addr().String() + "/mig"

	cases := []struct {
		name     string
		server   config.Server
		wantPeer bool
		wantErr  string
	}{
		{"private CA and client cert", config.Server{CAFile: certPath, ClientCert: certPath, ClientKey: keyPath}, true, ""},
		{"unknown CA", config.Server{ClientCert: certPath, ClientKey: keyPath}, false, "certificate"},
		{"unreadable CA", config.Server{CAFile: filepath.Join(dir, "missing.pem")}, false, "relay TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := state.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			o := mig.NewOptions()
			o.Relay, o.HeartbeatTransport = relay, mig.HeartbeatAMQP
			srv := c.server
			srv.Name, srv.Protocol, srv.Options = "mig1", "mig", o
			a, err := mig.New(protocols.Deps{Server: srv, State: st.Server("mig1"), Inventory: fixedInventory{sampleInventory()}})
			if err == nil {
				_, err = a.Cycle(ctxT(t, 10*time.Second))
			}
			if err == nil {
				t.Fatal("a TLS peer that is not a broker cannot take a heartbeat")
			}
			if c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if c.wantPeer {
				select {
				case n := <-peers:
					if n != 1 {
						t.Errorf("client certificates presented = %d", n)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("no TLS handshake completed: %v", err)
				}
			}
		})
	}
}
