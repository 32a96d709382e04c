package keyparse

import (
	"encoding/asn1"
	"fmt"
	"math/big"
)

// maxRSABits is OpenSSH's largest RSA modulus (SSH_RSA_MAXIMUM_MODULUS_SIZE). Checking an RSA
// private key (crypto/rsa's precomputation, which x/crypto/ssh and crypto/x509 run) costs about
// the cube of the modulus size: 3 s at 16384 bits, 38 s at 32768 bits from a 17 KB file. Larger
// moduli are refused before that work; it is the one place where we reject what x/crypto/ssh
// would accept, for keys no OpenSSH can make or use.
const maxRSABits = 16384

func checkRSABits(n *big.Int) error {
	if l := n.BitLen(); l > maxRSABits {
		return fmt.Errorf("ssh key: %d-bit RSA modulus, larger than OpenSSH's %d", l, maxRSABits)
	}
	return nil
}

// checkPKCS1Size looks at the modulus of a PKCS#1 RSAPrivateKey before crypto/x509 checks the
// key. DER it cannot read is left for crypto/x509 to reject.
func checkPKCS1Size(der []byte) error {
	var k struct { // the first fields of RSAPrivateKey; asn1 allows the ones after
		Version int
		N       *big.Int
	}
	if _, err := asn1.Unmarshal(der, &k); err != nil || k.N == nil {
		return nil
	}
	return checkRSABits(k.N)
}

// checkPKCS8Size does the same for an RSA key in a PKCS#8 PrivateKeyInfo.
func checkPKCS8Size(der []byte) error {
	var info struct {
		Version int
		Algo    struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil
	}
	if !info.Algo.Algorithm.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}) {
		return nil
	}
	return checkPKCS1Size(info.PrivateKey)
}
