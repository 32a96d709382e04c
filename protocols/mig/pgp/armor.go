package pgp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

const (
	armorBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	armorEnd   = "-----END PGP PUBLIC KEY BLOCK-----"
)

// CRC24 is the OpenPGP armor checksum (RFC 9580 §6.1).
func CRC24(b []byte) uint32 {
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

// dearmor decodes exactly one "PGP PUBLIC KEY BLOCK" (RFC 9580 §6.2). Text before BEGIN and
// after END is ignored, as gpg and go-crypto do; a second BEGIN anywhere is refused, as
// the agent always did, so a file cannot smuggle a second key past a reader of the first.
func dearmor(in []byte) ([]byte, error) {
	if n := bytes.Count(in, []byte("-----BEGIN PGP")); n != 1 {
		if n == 0 {
			return nil, errors.New("openpgp: no armored data found")
		}
		return nil, stricterf("holds %d armor blocks, want exactly 1", n)
	}
	lines := bytes.Split(bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n")), []byte("\n"))
	i := 0
	for ; i < len(lines); i++ {
		l := bytes.TrimRight(lines[i], " \t\r")
		if bytes.HasPrefix(l, []byte("-----BEGIN PGP")) {
			if string(l) != armorBegin {
				return nil, fmt.Errorf("openpgp: expected public key block, got %.60q", l)
			}
			break
		}
	}
	i++
	// Armor headers: "Key: value" lines up to the first blank line.
	for ; i < len(lines); i++ {
		l := bytes.TrimSpace(lines[i])
		if len(l) == 0 {
			break
		}
		if !bytes.Contains(l, []byte(": ")) {
			return nil, errors.New(structural + "armor header without a colon")
		}
	}
	if i >= len(lines) {
		return nil, errors.New(structural + "armor has no body")
	}
	i++
	var body []byte
	var sum []byte
	ended := false
	for ; i < len(lines); i++ {
		l := bytes.TrimSpace(lines[i])
		switch {
		case string(l) == armorEnd:
			ended = true
		case len(l) == 0:
			continue
		case l[0] == '=' && sum == nil:
			sum = l[1:]
			continue
		case sum != nil:
			return nil, errors.New(structural + "armor data after the checksum")
		default:
			body = append(body, l...)
			continue
		}
		break
	}
	if !ended {
		return nil, errors.New(structural + "armor END line missing")
	}
	raw, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		return nil, fmt.Errorf(structural+"armor body is not base64: %w", err)
	}
	if sum != nil {
		want, err := base64.StdEncoding.DecodeString(string(sum))
		if err != nil || len(want) != 3 {
			return nil, stricterf("armor checksum %.10q is not 4 base64 characters", sum)
		}
		if uint32(want[0])<<16|uint32(want[1])<<8|uint32(want[2]) != CRC24(raw) {
			return nil, stricterf("armor checksum mismatch")
		}
	}
	return raw, nil
}
