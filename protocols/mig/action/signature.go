package action

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/omniagent/omniagent/limitread"
	"github.com/omniagent/omniagent/protocols/mig/pgp"
)

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
	got := pgp.CRC24(raw)
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

// Fingerprint is the upper-case hex fingerprint of k's primary key, as MIG's ACL lists it.
func Fingerprint(k *pgp.Key) string {
	return k.Fingerprint()
}

// ParseKeyring reads armored public keys, each argument holding exactly one key (one file of
// MIG's keyring directory). Any invalid block fails the whole call; see LoadKeyringDir for the
// tolerant, directory-based loading.
func ParseKeyring(armored ...[]byte) ([]*pgp.Key, error) {
	var out []*pgp.Key
	for i, b := range armored {
		e, err := parseOneKey(b)
		if err != nil {
			return nil, fmt.Errorf("keyring entry %d: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseOneKey reads one armored public key; pgp refuses a second armor block or primary key.
func parseOneKey(b []byte) (*pgp.Key, error) {
	k, err := pgp.ReadArmoredKey(b)
	if err != nil {
		return nil, fmt.Errorf("read armored key: %w", err)
	}
	return k, nil
}

// LoadKeyringDir loads MIG's keyring directory: every regular file must hold exactly one
// armored public key; invalid files are skipped with a warning (as MIG does). A missing
// directory is an empty keyring (omniagent has no built-in keys), so every action is refused.
func LoadKeyringDir(dir string, logger *slog.Logger) ([]*pgp.Key, error) {
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
	var out []*pgp.Key
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		b, err := limitread.File(p, 1<<20)
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
