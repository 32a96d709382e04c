package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
)

// TestDeregister: without --yes nothing is deleted and the exit code is 1; with it the record
// goes, and a later oneshot does nothing for that system.
func TestDeregister(t *testing.T) {
	const id = "0123456789abcdef01234567"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := jcfake.New(jcfake.Options{}).Start()
	defer f.Close()
	f.AddSystem(&jcfake.System{ID: id, Pub: &key.PublicKey})
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "client.key")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "jcagent.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `{"systemKey":%q,"agentServerHost":"agent.jumpcloud.com","clientKey":%q}`, id, keyPath), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, fmt.Sprintf("[[server]]\nname = \"jc\"\nprotocol = \"jumpcloud\"\nurl = %q\njcagent_conf = %q\nattributes = false\n", f.URL(), conf))
	reg := protocols.NewRegistry()
	reg.Register(jumpcloud.Protocol())
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), reg: reg}, args)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("deregister", "--config", cfgPath); code != 2 || !strings.Contains(errs, "--server") {
		t.Errorf("no --server: code %d, %s", code, errs)
	}
	code, out, _ := run("deregister", "--config", cfgPath, "--server", "jc")
	if code != 1 || !strings.Contains(out, "would DELETE system "+id) || f.Inspect(id).Deleted {
		t.Fatalf("without --yes: code %d, out %q, deleted %v", code, out, f.Inspect(id).Deleted)
	}
	if code, out, errs := run("deregister", "--config", cfgPath, "--server", "jc", "--yes"); code != 0 || !strings.Contains(out, "deleted system") {
		t.Fatalf("with --yes: code %d, %s %s", code, out, errs)
	}
	if !f.Inspect(id).Deleted {
		t.Fatal("record not deleted")
	}
	f.ResetLog()
	if code, out, errs := run("--oneshot", "--config", cfgPath); code != 0 || !strings.Contains(out, "record deleted at") {
		t.Errorf("oneshot after deregister: code %d, %s %s", code, out, errs)
	}
	if n := len(f.Inspect(id).Log); n != 0 {
		t.Errorf("%d requests after deregister", n)
	}
	if code, _, errs := run("deregister", "--config", cfgPath, "--server", "nope", "--yes"); code != 1 || !strings.Contains(errs, "nope") {
		t.Errorf("unknown server: code %d, %s", code, errs)
	}
}
