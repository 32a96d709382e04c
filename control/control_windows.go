package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// pipeSDDL lets only SYSTEM and the Administrators group open the pipe (protected DACL, no
// inherited entries).
const pipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// Address is the daemon's pipe: one per state folder, so two agents with different state
// folders (tests) do not meet.
func Address(stateDir string) string {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = stateDir
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(abs))))
	return `\\.\pipe\omniagent-` + hex.EncodeToString(sum[:6])
}

// Listen creates the pipe. The first instance is created exclusively: a pipe another process
// made first (to pose as the daemon) makes this fail.
func Listen(stateDir string) (net.Listener, error) {
	ln, err := listenPipe(Address(stateDir), pipeSDDL)
	if err != nil {
		if errors.Is(err, os.ErrExist) || errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, fmt.Errorf("%w (%s): %v", ErrDaemonRunning, Address(stateDir), err)
		}
		return nil, fmt.Errorf("control channel %s: %w", Address(stateDir), err)
	}
	return ln, nil
}

func dial(ctx context.Context, stateDir string) (net.Conn, error) {
	c, err := dialPipe(ctx, Address(stateDir))
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("control channel %s: %w (run as an administrator)", Address(stateDir), err)
		}
		return nil, fmt.Errorf("%w on %s: %v", ErrNoDaemon, Address(stateDir), err)
	}
	return c, nil
}

// peerAllowed: the pipe's DACL already admits only SYSTEM and Administrators.
func peerAllowed(net.Conn) error { return nil }
