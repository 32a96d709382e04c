package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestUnprivilegedCaller runs a client as the user nobody: the socket's mode keeps it out, and
// with the mode opened on purpose the peer-credential check still refuses it.
func TestUnprivilegedCaller(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the permission test runs on Linux (peer credentials by SO_PEERCRED)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as nobody")
	}
	if os.Getenv("CONTROL_CLIENT_DIR") != "" {
		return // the child's own run of this test: see TestMain-free child below
	}
	h := &fakeHandler{}
	dir := serve(t, h)
	// nobody must be able to reach the socket's folder for the socket's own mode to matter.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a folder only root may enter: nobody runs a copy.
	bin := filepath.Join(shortDir(t), "control.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(bin), 0o755)
	run := func() string {
		cmd := exec.Command(bin, "-test.run=^TestClientChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CONTROL_CLIENT_DIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		return fmt.Sprintf("%s\n(exit: %v)", out, err)
	}
	if out := run(); !strings.Contains(out, "CLIENT: permission denied") {
		t.Fatalf("nobody reached the 0600 socket:\n%s", out)
	}
	if err := os.Chmod(Address(dir), 0o666); err != nil {
		t.Fatal(err)
	}
	if out := run(); !strings.Contains(out, "CLIENT: refused by the daemon: permission denied: uid 65534") {
		t.Fatalf("nobody was served through an open socket:\n%s", out)
	}
	if n := h.triggers.Load(); n != 0 {
		t.Fatalf("%d triggers ran for nobody", n)
	}
}

// TestClientChild is the client TestUnprivilegedCaller runs as nobody.
func TestClientChild(t *testing.T) {
	dir := os.Getenv("CONTROL_CLIENT_DIR")
	if dir == "" {
		t.Skip("run by TestUnprivilegedCaller")
	}
	r, err := Call(context.Background(), dir, Request{Cmd: CmdTrigger, Server: "a"})
	switch {
	case err != nil && errors.Is(err, os.ErrPermission):
		t.Log("CLIENT: permission denied:", err)
	case err != nil:
		t.Log("CLIENT: error:", err)
	case r.Error != "":
		t.Log("CLIENT: refused by the daemon:", r.Error)
	default:
		t.Log("CLIENT: served")
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
