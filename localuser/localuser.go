// Package localuser changes the password of a local account, the one job OCO's password
// rotation needs from the operating system: Linux through a crypt(3) SHA-512 hash given to
// chpasswd on its standard input, Windows through NetUserSetInfo, macOS through dscl reading
// its command from standard input. The password never appears on a command line.
package localuser

import (
	"errors"
	"fmt"
)

// ErrNoSuchUser is wrapped when the account does not exist on this machine.
var ErrNoSuchUser = errors.New("no such local user")

// ErrUnsupported is returned on an operating system without an implementation.
var ErrUnsupported = errors.New("changing a local password is not supported on this operating system")

// Change is one password change. Password (and Old, used on macOS only) are the caller's
// buffers: this package never copies them into strings it keeps, and zeroes its own copies.
type Change struct {
	Username string
	Password []byte
	// Old is the current password, which macOS needs to re-encrypt the login keychain; the
	// OCO server sends it for macOS computers. Ignored elsewhere.
	Old []byte
}

func (c Change) check() error {
	if c.Username == "" {
		return errors.New("localuser: empty user name")
	}
	for _, r := range c.Username {
		if r < 0x20 || r == ':' || r == 0x7f {
			return fmt.Errorf("localuser: user name %q has a character no account name may have", c.Username)
		}
	}
	if len(c.Password) == 0 {
		return errors.New("localuser: empty password")
	}
	for _, b := range c.Password {
		if b == 0 || b == '\n' || b == '\r' {
			return errors.New("localuser: the password contains a NUL or line break, which no password tool accepts")
		}
	}
	return nil
}

// Zero overwrites b; callers use it on every buffer that held a password.
func Zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
