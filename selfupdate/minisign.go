// Package selfupdate replaces the agent's own binary with a newer one, safely: a detached
// minisign signature by a key pinned in the config, the executable format of this OS and
// architecture, a newer version, and a trial run of the new binary come first; the swap is
// atomic and keeps the previous binary; a marker in the state folder lets the next start
// confirm the new binary's health or restore the previous one.
package selfupdate

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// PublicKey is a minisign public key.
type PublicKey struct {
	ID  uint64 // key id, as minisign prints it (hex, upper case)
	Key ed25519.PublicKey
}

// IDString is the key id as minisign prints it.
func (k PublicKey) IDString() string { return fmt.Sprintf("%016X", k.ID) }

// ParsePublicKey reads a minisign public key: the base64 line ("RWQ…") or a whole .pub file.
func ParsePublicKey(s string) (PublicKey, error) {
	line := strings.TrimSpace(s)
	if strings.Contains(line, "\n") {
		var last string
		for l := range strings.SplitSeq(line, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "untrusted comment:") {
				last = l
			}
		}
		line = last
	}
	raw, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		return PublicKey{}, fmt.Errorf("minisign public key %q: not base64: %w", shorten(line), err)
	}
	if len(raw) != 42 || string(raw[:2]) != "Ed" {
		return PublicKey{}, fmt.Errorf("minisign public key %q: not an Ed25519 minisign key (%d bytes)", shorten(line), len(raw))
	}
	return PublicKey{ID: binary.LittleEndian.Uint64(raw[2:10]), Key: ed25519.PublicKey(raw[10:])}, nil
}

// Signature is a parsed .minisig file.
type Signature struct {
	Algorithm      string // "Ed" (the file itself is signed) or "ED" (its BLAKE2b-512 is)
	KeyID          uint64
	Sig            []byte
	TrustedComment string
	GlobalSig      []byte
}

// maxSignatureFile bounds what is read of a .minisig.
const maxSignatureFile = 64 << 10

// ParseSignature reads a .minisig file: untrusted comment, signature, trusted comment and the
// global signature over signature and trusted comment.
func ParseSignature(r io.Reader) (Signature, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSignatureFile+1))
	if err != nil {
		return Signature{}, fmt.Errorf("read signature: %w", err)
	}
	if len(data) > maxSignatureFile {
		return Signature{}, errors.New("signature file larger than 64 KiB: not a minisign signature")
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "untrusted comment:") || !strings.HasPrefix(lines[2], "trusted comment: ") {
		return Signature{}, errors.New("not a minisign signature file (want: untrusted comment, signature, trusted comment, global signature)")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(raw) != 74 {
		return Signature{}, errors.New("minisign signature line is not 74 base64-encoded bytes")
	}
	s := Signature{Algorithm: string(raw[:2]), KeyID: binary.LittleEndian.Uint64(raw[2:10]), Sig: raw[10:], TrustedComment: strings.TrimPrefix(lines[2], "trusted comment: ")}
	if s.Algorithm != "Ed" && s.Algorithm != "ED" {
		return Signature{}, fmt.Errorf("minisign signature algorithm %q is not Ed or ED", s.Algorithm)
	}
	if s.GlobalSig, err = base64.StdEncoding.DecodeString(strings.TrimSpace(lines[3])); err != nil || len(s.GlobalSig) != ed25519.SignatureSize {
		return Signature{}, errors.New("minisign global signature is not 64 base64-encoded bytes")
	}
	return s, nil
}

// ErrUntrustedKey is returned when the signature's key is none of the pinned keys.
var ErrUntrustedKey = errors.New("the file is signed by a key that is not pinned in [update] public_keys")

// ErrBadSignature is returned when the signature does not match the file.
var ErrBadSignature = errors.New("the signature does not match the file (tampered file or wrong signature)")

// Verify checks sig over the content of r with the pinned key of the same id. It reads r once
// (streaming for prehashed "ED" signatures; "Ed" signs the raw file, so at most max bytes of
// it are held). It returns the key that signed and the trusted comment.
func Verify(keys []PublicKey, sig Signature, r io.Reader, max int64) (PublicKey, error) {
	var key PublicKey
	found := false
	for _, k := range keys {
		if k.ID == sig.KeyID {
			key, found = k, true
			break
		}
	}
	if !found {
		return PublicKey{}, fmt.Errorf("%w (signed by key %016X)", ErrUntrustedKey, sig.KeyID)
	}
	var msg []byte
	switch sig.Algorithm {
	case "ED":
		h, _ := blake2b.New512(nil)
		if _, err := io.Copy(h, io.LimitReader(r, max)); err != nil {
			return PublicKey{}, fmt.Errorf("read file: %w", err)
		}
		msg = h.Sum(nil)
	default:
		b, err := io.ReadAll(io.LimitReader(r, max))
		if err != nil {
			return PublicKey{}, fmt.Errorf("read file: %w", err)
		}
		msg = b
	}
	if !ed25519.Verify(key.Key, msg, sig.Sig) {
		return PublicKey{}, ErrBadSignature
	}
	global := append(append([]byte{}, sig.Sig...), sig.TrustedComment...)
	if !ed25519.Verify(key.Key, global, sig.GlobalSig) {
		return PublicKey{}, errors.New("the trusted comment's signature does not match (the .minisig was altered)")
	}
	return key, nil
}

// Sign makes a prehashed ("ED") minisign signature of content, as `minisign -S` does. The
// release script and tests use it; the agent itself only verifies.
func Sign(priv ed25519.PrivateKey, keyID uint64, content io.Reader, trustedComment string) ([]byte, error) {
	h, _ := blake2b.New512(nil)
	if _, err := io.Copy(h, content); err != nil {
		return nil, err
	}
	sig := ed25519.Sign(priv, h.Sum(nil))
	raw := make([]byte, 0, 74)
	raw = append(raw, 'E', 'D')
	raw = binary.LittleEndian.AppendUint64(raw, keyID)
	raw = append(raw, sig...)
	global := ed25519.Sign(priv, append(append([]byte{}, sig...), trustedComment...))
	return fmt.Appendf(nil, "untrusted comment: signature from omniagent release key\n%s\ntrusted comment: %s\n%s\n",
		base64.StdEncoding.EncodeToString(raw), trustedComment, base64.StdEncoding.EncodeToString(global)), nil
}

// EncodePublicKey is the base64 line of a minisign public key.
func EncodePublicKey(pub ed25519.PublicKey, keyID uint64) string {
	raw := append([]byte("Ed"), binary.LittleEndian.AppendUint64(nil, keyID)...)
	return base64.StdEncoding.EncodeToString(append(raw, pub...))
}

func shorten(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
