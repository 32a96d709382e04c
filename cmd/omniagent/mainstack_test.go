package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMainstackInitialisesEarly: mainstack only helps if its init runs before the standard
// library's deep initialisers (it relies on Go's initialisation order): in the real binary it
// must come before crypto, net/http and toml.
func TestMainstackInitialisesEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildAgent(t, t.TempDir())
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	var order []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	pos := func(pkg string) int {
		for i, p := range order {
			if p == pkg {
				return i
			}
		}
		return -1
	}
	ms := pos("github.com/omniagent/omniagent/mainstack")
	if ms < 0 {
		t.Fatalf("mainstack's init did not run:\n%s", out)
	}
	for _, later := range []string{"crypto/tls", "net/http", "github.com/BurntSushi/toml/internal", "crypto/internal/fips140/sha3"} {
		if p := pos(later); p >= 0 && p < ms {
			t.Errorf("%s (init %d) initialised before mainstack (init %d)", later, p, ms)
		}
	}
}

// buildAgent builds this command into dir, as the tests that run the real binary need it.
func buildAgent(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "omniagent")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}
