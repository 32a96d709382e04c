package jumpcloud

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// SigningString is the draft-cavage-00 string JumpCloud checks: the request line (target with
// its query, always HTTP/1.1), one newline, then the date header; nothing after it.
func SigningString(method, requestURI, date string) string {
	return method + " " + requestURI + " HTTP/1.1\ndate: " + date
}

// Sign sets Date and Authorization on req for system systemKey. It must be called on the final
// URL, right before sending, and again for every attempt.
func Sign(req *http.Request, systemKey string, key *rsa.PrivateKey, now time.Time) error {
	date := now.UTC().Format(http.TimeFormat)
	sum := sha256.Sum256([]byte(SigningString(req.Method, req.URL.RequestURI(), date)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", `Signature keyId="system/`+systemKey+`",headers="request-line date",algorithm="rsa-sha256",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
	return nil
}
