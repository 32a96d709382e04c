package localuser

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var procNetUserSetInfo = windows.NewLazySystemDLL("netapi32.dll").NewProc("NetUserSetInfo")

// userInfo1003 is USER_INFO_1003: the password alone.
type userInfo1003 struct {
	password *uint16
}

const (
	nerrSuccess          = 0
	nerrUserNotFound     = 2221
	nerrPasswordTooShort = 2245 // NERR_PasswordTooShort: the policy refused it
)

// SetPassword sets the account's password through NetUserSetInfo level 1003 on the local
// machine, as an administrator may without the old password. The UTF-16 copy is zeroed after.
func SetPassword(ctx context.Context, c Change) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := windows.UTF16PtrFromString(c.Username)
	if err != nil {
		return fmt.Errorf("localuser: user name: %w", err)
	}
	pw, err := windows.UTF16FromString(string(c.Password))
	if err != nil {
		return fmt.Errorf("localuser: password: %w", err)
	}
	defer func() {
		for i := range pw {
			pw[i] = 0
		}
	}()
	if err := procNetUserSetInfo.Find(); err != nil {
		return fmt.Errorf("localuser: NetUserSetInfo: %w", err)
	}
	info := userInfo1003{password: &pw[0]}
	var parmErr uint32
	r, _, _ := procNetUserSetInfo.Call(0, uintptr(unsafe.Pointer(name)), 1003, uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&parmErr)))
	switch r {
	case nerrSuccess:
		return nil
	case nerrUserNotFound:
		return fmt.Errorf("localuser: %q: %w", c.Username, ErrNoSuchUser)
	case nerrPasswordTooShort:
		return fmt.Errorf("localuser: NetUserSetInfo refused the password for %q: it does not meet the password policy (NERR_PasswordTooShort)", c.Username)
	default:
		return fmt.Errorf("localuser: NetUserSetInfo(%q) failed: %w", c.Username, windows.Errno(r))
	}
}
