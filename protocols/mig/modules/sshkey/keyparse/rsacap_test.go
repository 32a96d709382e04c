package keyparse

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestCheckRSABits(t *testing.T) {
	tests := []struct {
		bits    uint
		wantErr bool
	}{{2048, false}, {maxRSABits, false}, {maxRSABits + 1, true}, {8 * 1 << 20, true}}
	for _, tc := range tests {
		n := new(big.Int).Lsh(big.NewInt(1), tc.bits-1)
		if err := checkRSABits(n); (err != nil) != tc.wantErr {
			t.Errorf("%d bits: err %v, want error %v", tc.bits, err, tc.wantErr)
		}
	}
}

// TestOversizedRSARefusedQuickly: an RSA private key beyond OpenSSH's limit is refused before
// crypto/rsa's checks, which would take minutes on it, in each format that carries RSA keys.
func TestOversizedRSARefusedQuickly(t *testing.T) {
	big1 := func(bits uint) *big.Int {
		n := new(big.Int).Lsh(big.NewInt(1), bits-1)
		return n.Add(n, big.NewInt(12345))
	}
	p, q := big1(16400), big1(16400)
	n := new(big.Int).Mul(p, q)
	d := big1(32000)
	pkcs1 := must(asn1.Marshal(struct {
		Version               int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
	}{0, n, 65537, d, p, q, d, d, d}))
	pkcs8 := must(asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, Parameters: asn1.NullRawValue}, pkcs1}))
	priv := ssh.Marshal(struct {
		C1, C2              uint32
		Type                string
		N, E, D, Iqmp, P, Q *big.Int
		Comment             string
	}{1, 1, "ssh-rsa", n, big.NewInt(65537), d, d, p, q, ""})
	openssh := append([]byte("openssh-key-v1\x00"), ssh.Marshal(struct {
		Cipher, KDF, KDFOpts string
		N                    uint32
		Pub, Priv            []byte
	}{"none", "none", "", 1, nil, priv})...)
	tests := []struct {
		typ string
		der []byte
	}{{"RSA PRIVATE KEY", pkcs1}, {"PRIVATE KEY", pkcs8}, {"OPENSSH PRIVATE KEY", openssh}}
	for _, tc := range tests {
		start := time.Now()
		_, err := PrivateKey(pem.EncodeToMemory(&pem.Block{Type: tc.typ, Bytes: tc.der}))
		if err == nil || !strings.Contains(err.Error(), "larger than OpenSSH's") {
			t.Errorf("%s: err %v, want the modulus size refused", tc.typ, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", tc.typ, d)
		}
	}
}
