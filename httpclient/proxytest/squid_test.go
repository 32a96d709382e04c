package proxytest

import "testing"

func TestAPR1(t *testing.T) {
	// Reference values from openssl passwd -apr1 -salt SALT PASSWORD.
	for _, c := range []struct{ pw, salt, want string }{
		{"pr0xy-S3cret", "Qm5Ab/Kx", "$apr1$Qm5Ab/Kx$fpgmAOLSIQwjqCSrz0lpG/"},
		{"p", "abcdefgh", "$apr1$abcdefgh$C5orPJWI8v4Qy8kOPQ1vA."},
	} {
		if got := APR1(c.pw, c.salt); got != c.want {
			t.Errorf("APR1(%q, %q) = %q, want %q", c.pw, c.salt, got, c.want)
		}
	}
}
