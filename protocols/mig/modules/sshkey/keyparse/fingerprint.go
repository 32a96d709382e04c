package keyparse

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// FingerprintMD5 is OpenSSH's legacy fingerprint of a wire blob: colon-separated hex MD5.
func FingerprintMD5(blob []byte) string {
	sum := md5.Sum(blob)
	parts := make([]string, len(sum))
	for i, c := range sum {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}

// FingerprintSHA256 is OpenSSH's fingerprint of a wire blob: "SHA256:" and unpadded base64.
func FingerprintSHA256(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
