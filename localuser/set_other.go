//go:build !linux && !windows && !darwin

package localuser

import "context"

// SetPassword is not implemented on this operating system.
func SetPassword(context.Context, Change) error { return ErrUnsupported }
