package localuser

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// throwawayUser creates a local account for the test and removes it afterwards.
func throwawayUser(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the test does not run as root: it needs root to create a throwaway account")
		}
		t.Skip("not root: cannot create a throwaway account to change its password")
	}
	useradd, err := exec.LookPath("useradd")
	if err != nil {
		t.Skip("useradd not installed (Debian package passwd)")
	}
	name := fmt.Sprintf("omnipw%d", time.Now().UnixNano()%1e8)
	if out, err := exec.Command(useradd, "-M", "-s", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	return name
}

func shadowHash(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 1 && fields[0] == name {
			return fields[1]
		}
	}
	t.Fatalf("%s not in /etc/shadow", name)
	return ""
}

func TestSetPasswordLinux(t *testing.T) {
	name := throwawayUser(t)
	pw := []byte("N3w pass:word with 'quotes' & $ymbols")
	if err := SetPassword(context.Background(), Change{Username: name, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hash := shadowHash(t, name)
	if ok, err := VerifySHA512Crypt(pw, hash); err != nil || !ok {
		t.Fatalf("shadow hash %q does not verify with the new password (%v)", hash, err)
	}
	if ok, _ := VerifySHA512Crypt([]byte("wrong"), hash); ok {
		t.Fatal("a wrong password verifies")
	}
}

func TestSetPasswordErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Change
		want error
	}{
		{"no such user", Change{Username: "omniagent-no-such-user", Password: []byte("x")}, ErrNoSuchUser},
		{"empty user", Change{Password: []byte("x")}, nil},
		{"colon in name", Change{Username: "a:b", Password: []byte("x")}, nil},
		{"newline in password", Change{Username: "root", Password: []byte("a\nb")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SetPassword(context.Background(), tt.c)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
