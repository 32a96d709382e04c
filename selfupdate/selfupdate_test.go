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

// TestExecutableKind reads headers of real binaries of every target (go build of a tiny
// program) and of made-up files: what the hand-written header reader says must match.
func TestExecutableKind(t *testing.T) {
	if testing.Short() {
		t.Skip("builds six small binaries")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the sample binaries")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644)
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			out := filepath.Join(dir, goos+"-"+goarch)
			cmd := exec.Command(goBin, "build", "-o", out, src)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GO111MODULE=off", "GOFLAGS=")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build %s/%s: %v: %s", goos, goarch, err, b)
			}
			if err := CheckExecutable(out, goos, goarch); err != nil {
				t.Errorf("%s/%s binary refused: %v", goos, goarch, err)
			}
			other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[goarch]
			if err := CheckExecutable(out, goos, other); err == nil || !strings.Contains(err.Error(), goos+"/"+goarch) {
				t.Errorf("%s/%s binary accepted as %s (or not named): %v", goos, goarch, other, err)
			}
		}
	}
	le16 := func(b []byte, off int, v uint16) { b[off], b[off+1] = byte(v), byte(v>>8) }
	elf := func(class, typ, machine uint16) []byte {
		b := make([]byte, 64)
		copy(b, "\x7fELF")
		b[4], b[5], b[6] = byte(class), 1, 1
		le16(b, 16, typ)
		le16(b, 18, machine)
		return b
	}
	pe := func(machine, chars uint16) []byte {
		b := make([]byte, 0x80+24)
		b[0], b[1] = 'M', 'Z'
		b[0x3c] = 0x80
		copy(b[0x80:], "PE\x00\x00")
		le16(b, 0x80+4, machine)
		le16(b, 0x80+22, chars)
		return b
	}
	macho := func(cpu, filetype uint32) []byte {
		b := make([]byte, 32)
		for i, v := range []uint32{0xfeedfacf, cpu, 3, filetype} {
			b[i*4], b[i*4+1], b[i*4+2], b[i*4+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr string
	}{
		{"elf amd64 static", elf(2, 2, 62), "linux/amd64", ""},
		{"elf arm64 pie", elf(2, 3, 183), "linux/arm64", ""},
		{"elf relocatable object", elf(2, 1, 62), "an ELF object that is not an executable", ""},
		{"elf bad class", elf(7, 2, 62), "", "broken ELF file"},
		{"elf truncated", []byte("\x7fELF\x02\x01\x01"), "", "broken ELF file"},
		{"pe amd64", pe(0x8664, 0x22), "windows/amd64", ""},
		{"pe dll", pe(0x8664, 0x2022), "a Windows DLL", ""},
		{"pe header beyond the end", pe(0x8664, 0x22)[:0x70], "", "broken PE file"},
		{"pe without signature", append(pe(0x8664, 0x22)[:0x80], make([]byte, 24)...), "", "no PE signature"},
		{"macho arm64", macho(0x0100000c, 2), "darwin/arm64", ""},
		{"macho dylib", macho(0x0100000c, 6), "a Mach-O file that is not an executable", ""},
		{"script", []byte("#!/bin/sh\necho omniagent 9.9.9\n"), "an unknown format", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.data
			if len(h) > 64 {
				h = h[:64]
			}
			got, err := executableKind(bytes.NewReader(tt.data), h)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
