package action

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// crc24 is the OpenPGP armor checksum (RFC 4880 §6.1). go-crypto no longer checks it on
// decode, but MIG's verifier did, so a wrong or missing CRC must be refused by us.
func crc24(b []byte) uint32 {
	const (
		init24 = 0xb704ce
		poly24 = 0x1864cfb
	)
	crc := uint32(init24)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= poly24
			}
		}
	}
	return crc & 0xffffff
}

// ParseSignature decodes MIG's one-line signature: the armor's base64 body lines concatenated,
// directly followed by the armor checksum "=XXXX". As MIG does, it splits at the last "=".
// It returns the binary OpenPGP packets.
func ParseSignature(s string) ([]byte, error) {
	last := strings.LastIndexByte(s, '=')
	if last < 0 {
		return nil, errors.New("signature has no armor checksum")
	}
	body, sum := s[:last], s[last+1:]
	if body == "" {
		return nil, errors.New("signature body is empty")
	}
	if len(sum) != 4 {
		return nil, fmt.Errorf("signature armor checksum %q is not 4 base64 characters", sum)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("signature body is not base64: %w", err)
	}
	want, err := base64.StdEncoding.Strict().DecodeString(sum)
	if err != nil || len(want) != 3 {
		return nil, fmt.Errorf("signature armor checksum %q is not base64", sum)
	}
	got := crc24(raw)
	if uint32(want[0])<<16|uint32(want[1])<<8|uint32(want[2]) != got {
		return nil, errors.New("signature armor checksum mismatch")
	}
	return raw, nil
}

// OneLine reduces an ASCII-armored signature to MIG's wire form, as MIG's client does: the
// text between the first empty line (end of the armor headers) and the END line, newlines
// removed; that keeps the "=XXXX" checksum at the end.
func OneLine(armored string) (string, error) {
	armored = strings.ReplaceAll(armored, "\r\n", "\n")
	i := strings.Index(armored, "\n\n")
	j := strings.Index(armored, "\n-----END")
	if i < 0 || j < 0 || j < i+2 {
		return "", errors.New("not an armored signature block")
	}
	return strings.ReplaceAll(armored[i+2:j], "\n", ""), nil
}

// Sign signs the action's signed string with e (private key decrypted) the way MIG's client
// does: detached v4 binary signature, SHA-256, armored then reduced to one line. The
// signature is not appended to a.PGPSignatures.
func Sign(a *Action, e *openpgp.Entity) (string, error) {
	if e == nil || e.PrivateKey == nil {
		return "", errors.New("sign action: entity has no private key")
	}
	str, err := SignedString(a)
	if err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	return signBytes(str, e)
}

func signBytes(str []byte, e *openpgp.Entity) (string, error) {
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(str), nil); err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	line, err := OneLine(buf.String())
	if err != nil {
		return "", fmt.Errorf("sign action: %w", err)
	}
	return line, nil
}

// Fingerprint is the upper-case hex fingerprint of e's primary key, as MIG's ACL lists it.
func Fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// ParseKeyring reads armored public keys, each argument holding exactly one key (one file of
// MIG's keyring directory). Any invalid block fails the whole call; see LoadKeyringDir for the
// tolerant, directory-based loading.
func ParseKeyring(armored ...[]byte) (openpgp.EntityList, error) {
	var out openpgp.EntityList
	for i, b := range armored {
		e, err := parseOneKey(b)
		if err != nil {
			return nil, fmt.Errorf("keyring entry %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseOneKey(b []byte) (*openpgp.Entity, error) {
	// ReadArmoredKeyRing reads only the first armor block; a second one would be silently
	// ignored, so count them.
	if n := bytes.Count(b, []byte("-----BEGIN PGP")); n > 1 {
		return nil, fmt.Errorf("holds %d armor blocks, want exactly 1", n)
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("read armored key: %w", err)
	}
	if len(el) != 1 {
		return nil, fmt.Errorf("holds %d keys, want exactly 1", len(el))
	}
	return el[0], nil
}

// LoadKeyringDir loads MIG's keyring directory: every regular file must hold exactly one
// armored public key; invalid files are skipped with a warning (as MIG does). A missing
// directory is an empty keyring (omniagent has no built-in keys), so every action is refused.
func LoadKeyringDir(dir string, logger *slog.Logger) (openpgp.EntityList, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		logger.Warn("mig keyring directory missing: every action will be refused", "dir", dir)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keyring directory %s: %w", dir, err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out openpgp.EntityList
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		b, err := readSmall(p, 1<<20)
		if err != nil {
			logger.Warn("mig keyring: skipping unreadable file", "file", p, "err", err)
			continue
		}
		e, err := parseOneKey(b)
		if err != nil {
			logger.Warn("mig keyring: skipping invalid key file", "file", p, "err", err)
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		logger.Warn("mig keyring is empty: every action will be refused", "dir", dir)
	}
	return out, nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// sigPacket reads the first signature packet. Verification uses its creation time as the
// clock when it is later than now: go-crypto treats a signature made "in the future" as
// expired, and an investigator's clock slightly ahead of the agent's must not fail the action
// (MIG's verifier did not check this). Key expiry and revocation are monotonic, so judging
// them at the later time is never more lenient.
func sigPacket(raw []byte) (*packet.Signature, error) {
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read signature packet: %w", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("first packet is %T, not a signature", p)
	}
	return sig, nil
}
