package localuser

import (
	"os/exec"
	"strings"
	"testing"
)

// Vectors from Ulrich Drepper's SHA-crypt specification (sha-crypt.txt).
func TestSHA512CryptVectors(t *testing.T) {
	tests := []struct {
		salt   string
		rounds int
		key    string
		want   string
	}{
		{"saltstring", 0, "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"saltstringsaltstring", 10000, "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"toolongsaltstring", 5000, "This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
		{"roundstoolow", 10, "the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
	}
	for _, tt := range tests {
		if got := SHA512Crypt([]byte(tt.key), tt.salt, tt.rounds); got != tt.want {
			t.Errorf("SHA512Crypt(%q, %q, %d) = %s, want %s", tt.key, tt.salt, tt.rounds, got, tt.want)
		}
		ok, err := VerifySHA512Crypt([]byte(tt.key), tt.want)
		if err != nil || !ok {
			t.Errorf("VerifySHA512Crypt(%q) = %v, %v", tt.want, ok, err)
		}
	}
}

// glibc's crypt(3), through perl, must agree with ours on long and odd passwords.
func TestSHA512CryptMatchesGlibc(t *testing.T) {
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("perl not installed: cannot compare with glibc's crypt(3)")
	}
	salt, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"x", "äöü spaces and 'quotes' \"here\"", strings.Repeat("long-password-", 20)} {
		out, err := exec.Command(perl, "-e", `print crypt($ARGV[0], '$6$'.$ARGV[1].'$')`, key, salt).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := SHA512Crypt([]byte(key), salt, 0); got != string(out) {
			t.Errorf("key %q: ours %s, glibc %s", key, got, out)
		}
	}
}
