package selfupdate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	buildMu sync.Mutex
	builds  = map[string]string{}
)

// fakeRelease builds testdata/fakeagent stamped with version (cached per test binary).
func fakeRelease(t *testing.T, version string, configOK bool) string {
	t.Helper()
	key := version + map[bool]string{true: "", false: "-badconfig"}[configOK]
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := builds[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "selfupdate-release-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "omniagent")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	ok := "yes"
	if !configOK {
		ok = "no"
	}
	cmd := exec.Command("go", "build", "-o", out, "-ldflags", "-X main.version="+version+" -X main.configOK="+ok, "./testdata/fakeagent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake release: %v: %s", err, b)
	}
	builds[key] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range builds {
		os.RemoveAll(filepath.Dir(p))
	}
	os.Exit(code)
}

type installEnv struct {
	t     *testing.T
	key   testKey
	exe   string
	state string
	o     Options
}

// newInstallEnv puts a fake "running" agent of version running in a temp folder.
func newInstallEnv(t *testing.T, running string) *installEnv {
	dir := t.TempDir()
	exe := filepath.Join(dir, "omniagent")
	copyTo(t, fakeRelease(t, running, true), exe)
	k := newTestKey(t, 42)
	e := &installEnv{t: t, key: k, exe: exe, state: filepath.Join(dir, "state")}
	e.o = Options{StateDir: e.state, Exe: exe, Keys: []PublicKey{k.pub}, Running: running}
	return e
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// candidate copies a release into a download folder and signs it with k.
func (e *installEnv) candidate(release string, k testKey) (string, []byte) {
	p := filepath.Join(e.t.TempDir(), "download")
	copyTo(e.t, release, p)
	data, _ := os.ReadFile(p)
	return p, k.sign(e.t, data)
}

func (e *installEnv) exeVersion() string {
	out, err := exec.Command(e.exe, "version").Output()
	if err != nil {
		e.t.Fatalf("%s version: %v", e.exe, err)
	}
	v, _ := parseVersionOutput(string(out))
	return v
}

func TestInstall(t *testing.T) {
	e := newInstallEnv(t, "1.0.0")
	file, sig := e.candidate(fakeRelease(t, "1.1.0", true), e.key)
	res, err := Install(context.Background(), e.o, file, bytes.NewReader(sig))
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "1.0.0" || res.To != "1.1.0" || e.exeVersion() != "1.1.0" {
		t.Fatalf("result %+v, executable now %s", res, e.exeVersion())
	}
	prev, _ := exec.Command(res.Previous, "version").Output()
	if !strings.Contains(string(prev), "1.0.0") {
		t.Fatalf("previous binary says %q", prev)
	}
	m, ok, err := ReadMarker(e.state)
	if err != nil || !ok || m.State != StatePending || m.To != "1.1.0" {
		t.Fatalf("marker %+v %v %v", m, ok, err)
	}
	if fi, _ := os.Stat(filepath.Join(e.state, markerFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("marker mode %v", fi.Mode())
	}
	// Never two updates in flight.
	file2, sig2 := e.candidate(fakeRelease(t, "1.2.0", true), e.key)
	if _, err := Install(context.Background(), e.o, file2, bytes.NewReader(sig2)); err == nil || !strings.Contains(err.Error(), "in flight") {
		t.Fatalf("second update while one is pending: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(e.exe), ".omniagent-update-*"))
	if len(leftovers) != 0 {
		t.Fatalf("staging files left behind: %v", leftovers)
	}
}

// Every refusal leaves the running binary as it was.
func TestInstallRefusals(t *testing.T) {
	stranger := newTestKey(t, 7)
	tests := []struct {
		name    string
		release func(t *testing.T) string
		mutate  func(o *Options)
		signer  func(e *installEnv) testKey
		tamper  bool
		want    string
		wantErr error
	}{
		{name: "tampered file", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", true) }, tamper: true, wantErr: ErrBadSignature},
		{name: "key not pinned", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", true) }, signer: func(*installEnv) testKey { return stranger }, wantErr: ErrUntrustedKey},
		{name: "downgrade", release: func(t *testing.T) string { return fakeRelease(t, "0.9.0", true) }, wantErr: ErrNotNewer},
		{name: "same version", release: func(t *testing.T) string { return fakeRelease(t, "1.0.0", true) }, wantErr: ErrNotNewer},
		{name: "no keys", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", true) }, mutate: func(o *Options) { o.Keys = nil }, wantErr: ErrNoKeys},
		{name: "too large", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", true) }, mutate: func(o *Options) { o.MaxSize = 1000 }, want: "limit"},
		{name: "wrong architecture", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", true) }, mutate: func(o *Options) { o.GOARCH = "riscv64" }, want: "not an executable for this machine"},
		{name: "not a program", release: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "s")
			os.WriteFile(p, []byte("#!/bin/sh\necho omniagent 9.9.9\n"), 0o755)
			return p
		}, want: "not an executable for this machine"},
		{name: "rejects the current config", release: func(t *testing.T) string { return fakeRelease(t, "1.1.0", false) }, want: "rejects the current config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newInstallEnv(t, "1.0.0")
			before, _ := os.ReadFile(e.exe)
			k := e.key
			if tt.signer != nil {
				k = tt.signer(e)
			}
			file, sig := e.candidate(tt.release(t), k)
			if tt.tamper {
				f, _ := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
				f.Write([]byte("x"))
				f.Close()
			}
			o := e.o
			if tt.mutate != nil {
				tt.mutate(&o)
			}
			_, err := Install(context.Background(), o, file, bytes.NewReader(sig))
			if err == nil {
				t.Fatal("installed")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.want != "" && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if after, _ := os.ReadFile(e.exe); !bytes.Equal(before, after) {
				t.Fatal("the running binary changed")
			}
			if _, ok, _ := ReadMarker(e.state); ok {
				t.Fatal("a refused update left a marker")
			}
		})
	}
}

// A new binary that never proves healthy is replaced by the previous one after MaxAttempts
// starts; one that does is confirmed.
func TestBootRollbackAndConfirm(t *testing.T) {
	e := newInstallEnv(t, "1.0.0")
	file, sig := e.candidate(fakeRelease(t, "1.1.0", true), e.key)
	if _, err := Install(context.Background(), e.o, file, bytes.NewReader(sig)); err != nil {
		t.Fatal(err)
	}
	bo := e.o
	bo.Running = "1.1.0" // what the restarted process runs
	for i := 1; i <= MaxAttempts; i++ {
		act, err := Boot(bo)
		if err != nil || act != Prove {
			t.Fatalf("start %d: %v %v, want Prove", i, act, err)
		}
	}
	act, err := Boot(bo)
	if err != nil || act != RestartPrevious {
		t.Fatalf("start %d: %v %v, want the previous binary restored", MaxAttempts+1, act, err)
	}
	if v := e.exeVersion(); v != "1.0.0" {
		t.Fatalf("after the rollback the executable is %s", v)
	}
	if d := Describe(e.state); !strings.Contains(d, "UPDATE FAILED") || !strings.Contains(d, "1.1.0") {
		t.Fatalf("status line %q", d)
	}
	// The restored binary starts normally.
	if act, err := Boot(e.o); err != nil || act != Continue {
		t.Fatalf("restored binary's boot: %v %v", act, err)
	}

	// A second attempt that proves healthy is confirmed.
	file, sig = e.candidate(fakeRelease(t, "1.2.0", true), e.key)
	if _, err := Install(context.Background(), e.o, file, bytes.NewReader(sig)); err != nil {
		t.Fatal(err)
	}
	bo.Running = "1.2.0"
	if act, err := Boot(bo); err != nil || act != Prove {
		t.Fatal(act, err)
	}
	if ok, err := Confirm(e.state, "1.2.0", "test"); err != nil || !ok {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	if d := Describe(e.state); !strings.Contains(d, "updated 1.0.0 → 1.2.0") {
		t.Fatalf("status line %q", d)
	}
}
