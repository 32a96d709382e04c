package selfupdate

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type testKey struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

func newTestKey(t *testing.T, id uint64) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ParsePublicKey(EncodePublicKey(pub, id))
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: priv, pub: pk}
}

func (k testKey) sign(t *testing.T, data []byte) []byte {
	t.Helper()
	s, err := Sign(k.priv, k.pub.ID, bytes.NewReader(data), "timestamp:1\tfile:omniagent")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	k := newTestKey(t, 0x1122334455667788)
	other := newTestKey(t, 0x99)
	data := []byte("the new agent binary")
	good := k.sign(t, data)

	tests := []struct {
		name    string
		keys    []PublicKey
		sig     []byte
		data    []byte
		wantErr error
	}{
		{"good", []PublicKey{other.pub, k.pub}, good, data, nil},
		{"tampered file", []PublicKey{k.pub}, good, []byte("the new agent binarY"), ErrBadSignature},
		{"key not pinned", []PublicKey{other.pub}, good, data, ErrUntrustedKey},
		{"signed by another key with the pinned id", []PublicKey{{ID: k.pub.ID, Key: other.pub.Key}}, good, data, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := ParseSignature(bytes.NewReader(tt.sig))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Verify(tt.keys, sig, bytes.NewReader(tt.data), 1<<20)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// The trusted comment is covered by the global signature.
	altered := bytes.Replace(good, []byte("file:omniagent"), []byte("file:omniagenT"), 1)
	sig, err := ParseSignature(bytes.NewReader(altered))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify([]PublicKey{k.pub}, sig, bytes.NewReader(data), 1<<20); err == nil {
		t.Fatal("an altered trusted comment verified")
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"", "not base64!", "RWQ=", "untrusted comment: x\n"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("public key %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "untrusted comment: x\nAAAA\ntrusted comment: y\nBBBB\n", strings.Repeat("x", 70000)} {
		if _, err := ParseSignature(strings.NewReader(bad)); err == nil {
			t.Errorf("signature %.20q accepted", bad)
		}
	}
}

// The Debian minisign tool and this package must understand each other both ways.
func TestMinisignCLIInterop(t *testing.T) {
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but minisign is not installed (Debian package minisign; .ci/run installs it)")
		}
		t.Skip("minisign not installed (Debian package minisign)")
	}
	dir := t.TempDir()
	pubFile, secFile := filepath.Join(dir, "k.pub"), filepath.Join(dir, "k.key")
	if out, err := exec.Command(bin, "-G", "-W", "-p", pubFile, "-s", secFile).CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v: %s", err, out)
	}
	file := filepath.Join(dir, "payload")
	os.WriteFile(file, bytes.Repeat([]byte("omniagent"), 10000), 0o644)
	for _, legacy := range []bool{false, true} {
		args := []string{"-S", "-s", secFile, "-m", file}
		if legacy {
			args = append(args, "-l")
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("minisign -S: %v: %s", err, out)
		}
		pubText, _ := os.ReadFile(pubFile)
		pk, err := ParsePublicKey(string(pubText))
		if err != nil {
			t.Fatal(err)
		}
		sf, _ := os.Open(file + ".minisig")
		sig, err := ParseSignature(sf)
		sf.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "ED", true: "Ed"}[legacy]; sig.Algorithm != want {
			t.Errorf("legacy=%v: algorithm %s, want %s", legacy, sig.Algorithm, want)
		}
		f, _ := os.Open(file)
		_, err = Verify([]PublicKey{pk}, sig, f, 1<<20)
		f.Close()
		if err != nil {
			t.Fatalf("legacy=%v: a minisign CLI signature does not verify: %v", legacy, err)
		}
	}

	// Ours, checked by the CLI.
	k := newTestKey(t, 0xCAFEF00D)
	data, _ := os.ReadFile(file)
	os.WriteFile(file+".minisig", k.sign(t, data), 0o644)
	if out, err := exec.Command(bin, "-V", "-P", EncodePublicKey(k.pub.Key, k.pub.ID), "-m", file).CombinedOutput(); err != nil {
		t.Fatalf("minisign -V rejects our signature: %v: %s", err, out)
	}
}

func TestCheckExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckExecutable(self, runtime.GOOS, runtime.GOARCH); err != nil {
		t.Fatalf("the test binary itself: %v", err)
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if err := CheckExecutable(self, runtime.GOOS, other); err == nil {
		t.Fatalf("a %s binary accepted as %s", runtime.GOARCH, other)
	}
	if err := CheckExecutable(self, "windows", runtime.GOARCH); err == nil && runtime.GOOS != "windows" {
		t.Fatal("a non-Windows binary accepted for Windows")
	}
	text := filepath.Join(t.TempDir(), "script")
	os.WriteFile(text, []byte("#!/bin/sh\necho omniagent 9.9.9\n"), 0o755)
	if err := CheckExecutable(text, runtime.GOOS, runtime.GOARCH); err == nil {
		t.Fatal("a shell script accepted as the agent binary")
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.0", "1.2.0", 0},
		{"1.2.1", "1.2.0", 1},
		{"v1.10.0", "1.9.9", 1},
		{"1.2.0", "1.2.0-rc1", 1},
		{"1.2.0-rc2", "1.2.0-rc1", 1},
		{"0.0.0~git1a2b3c", "0.0.1", -1},
		{"0.0.0-dev", "0.1.0", -1},
		{"2.0", "2.0.0", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPreviousPath(t *testing.T) {
	for in, want := range map[string]string{"/usr/bin/omniagent": "/usr/bin/omniagent.previous", `C:\omniagent\omniagent.exe`: `C:\omniagent\omniagent.previous.exe`} {
		if got := previousPath(in); got != want {
			t.Errorf("previousPath(%q) = %q, want %q", in, got, want)
		}
	}
}
