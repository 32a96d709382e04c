//go:build linux

// Package localusertest makes throwaway local accounts for tests that change passwords.
package localusertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ThrowawayUser creates a local account (no home, no login shell) and removes it when the
// test ends. It skips without root or useradd, and fails without root when CI is set.
func ThrowawayUser(t *testing.T, prefix string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the test does not run as root: it needs root to create a throwaway account")
		}
		t.Skip("not root: cannot create a throwaway account")
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		t.Skip("useradd not installed (Debian package passwd)")
	}
	name := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e8)
	if out, err := exec.Command(useradd, "-M", "-s", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	return name
}

// ShadowHash is the account's password hash in /etc/shadow.
func ShadowHash(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Split(sc.Text(), ":"); len(fields) > 1 && fields[0] == name {
			return fields[1]
		}
	}
	t.Fatalf("%s is not in /etc/shadow", name)
	return ""
}
