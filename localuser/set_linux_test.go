package localuser

import (
	"context"
	"errors"
	"testing"

	"github.com/omniagent/omniagent/localuser/localusertest"
)

func TestSetPasswordLinux(t *testing.T) {
	name := localusertest.ThrowawayUser(t, "omnipw")
	pw := []byte("N3w pass:word with 'quotes' & $ymbols")
	if err := SetPassword(context.Background(), Change{Username: name, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hash := localusertest.ShadowHash(t, name)
	if ok, err := VerifySHA512Crypt(pw, hash); err != nil || !ok {
		t.Fatalf("shadow hash %q does not verify with the new password (%v)", hash, err)
	}
	if ok, _ := VerifySHA512Crypt([]byte("wrong"), hash); ok {
		t.Fatal("a wrong password verifies")
	}
}

func TestSetPasswordErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Change
		want error
	}{
		{"no such user", Change{Username: "omniagent-no-such-user", Password: []byte("x")}, ErrNoSuchUser},
		{"empty user", Change{Password: []byte("x")}, nil},
		{"colon in name", Change{Username: "a:b", Password: []byte("x")}, nil},
		{"newline in password", Change{Username: "root", Password: []byte("a\nb")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SetPassword(context.Background(), tt.c)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
