package wintest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/selfupdate"
)

// TestSelfUpdate swaps the running Windows binary: `omniagent.exe self-update` (version
// 0.0.0-wine, running) installs a signed 9.9.9 build over itself. Windows refuses to replace
// or delete a running image but lets it be renamed: the running .exe goes aside as
// omniagent.exe.old, the previous binary is kept as omniagent.previous.exe, and the next start
// of the daemon removes the .old file.
func TestSelfUpdate(t *testing.T) {
	w := need(t)
	dir := filepath.Join(w.dir, "selfupdate")
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(bin, "omniagent.exe")
	if err := copyFile(w.exe, exe); err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "omniagent-9.9.9.exe")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", next, "-tags", "nethttpomithttp2", "-ldflags", "-X github.com/omniagent/omniagent/version.Version=9.9.9", "./cmd/omniagent")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the 9.9.9 release: %v\n%s", err, out)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(next)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := selfupdate.Sign(priv, 0x5E1F, bytes.NewReader(data), "file:omniagent.exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next+".minisig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "[agent]\nstate_dir = %q\n\n[update]\npublic_keys = [%q]\n",
		winPath(filepath.Join(dir, "state")), selfupdate.EncodePublicKey(pub, 0x5E1F)), 0o600); err != nil {
		t.Fatal(err)
	}

	r := w.run(t, 2*time.Minute, exe, "self-update", winPath(next), "--signature", winPath(next+".minisig"), "--config", winPath(cfg), "--no-restart")
	if r.code != 0 {
		t.Fatalf("self-update: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	version := func(p string) string {
		r := w.run(t, time.Minute, p, "version")
		return r.stdout
	}
	if v := version(exe); !strings.Contains(v, "omniagent 9.9.9") {
		t.Fatalf("omniagent.exe after the swap: %q", v)
	}
	if v := version(filepath.Join(bin, "omniagent.previous.exe")); !strings.Contains(v, "omniagent 0.0.0-wine") {
		t.Fatalf("omniagent.previous.exe: %q", v)
	}
	aside := exe + ".old"
	if _, err := os.Stat(aside); err != nil {
		t.Fatalf("the running image was not renamed aside: %v", err)
	}
	m, ok, err := selfupdate.ReadMarker(filepath.Join(dir, "state"))
	if err != nil || !ok || m.State != selfupdate.StatePending || m.To != "9.9.9" {
		t.Fatalf("update marker %+v %v %v", m, ok, err)
	}

	// The next start of the daemon removes the renamed image and counts the new binary's start.
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer dcancel()
	_, _ = w.exec(dctx, exe, "run", "--config", winPath(cfg))
	if _, err := os.Stat(aside); !os.IsNotExist(err) {
		t.Fatalf("omniagent.exe.old is still there after the next start (%v)", err)
	}
	if m, _, _ := selfupdate.ReadMarker(filepath.Join(dir, "state")); m.Attempts != 1 {
		t.Fatalf("the new binary's start was not counted: %+v", m)
	}
}
