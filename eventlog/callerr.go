package eventlog

import (
	"errors"
	"syscall"
)

// errNoCode is what a failed call that set no last-error code reports.
var errNoCode = errors.New("failed without setting an error code (the API is a stub or not implemented here)")

// callError is the error of a failed Win32 call given the last-error value it left. A call may
// fail and leave 0 (Wine's stub EvtQuery does): wrapping that as is printed
// "EvtQuery: The operation completed successfully.", which reads like a success.
func callError(err error) error {
	if err == nil || errors.Is(err, syscall.Errno(0)) {
		return errNoCode
	}
	return err
}
