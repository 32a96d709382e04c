//go:build !windows

package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// socketName is the socket's file name in the state folder.
const socketName = "control.sock"

// Address is where the daemon of stateDir listens.
func Address(stateDir string) string { return filepath.Join(stateDir, socketName) }

// Listen opens the channel. A socket file left by a daemon that died is replaced; a socket a
// live daemon answers on is an error.
func Listen(stateDir string) (net.Listener, error) {
	path := Address(stateDir)
	ln, err := listenUnix(path)
	if err != nil {
		fi, serr := os.Lstat(path)
		if serr != nil || fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control channel %s: %w", path, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, derr := (&net.Dialer{}).DialContext(ctx, "unix", path)
		cancel()
		if derr == nil {
			c.Close()
			return nil, fmt.Errorf("%w (%s)", ErrDaemonRunning, path)
		}
		if rerr := os.Remove(path); rerr != nil {
			return nil, fmt.Errorf("control channel %s: remove stale socket: %w", path, rerr)
		}
		if ln, err = listenUnix(path); err != nil {
			return nil, fmt.Errorf("control channel %s: %w", path, err)
		}
	}
	return ln, nil
}

func listenUnix(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	// The state folder is 0700 already; the socket itself is 0600 too, in case it is not.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	return ln, nil
}

func dial(ctx context.Context, stateDir string) (net.Conn, error) {
	path := Address(stateDir)
	c, err := (&net.Dialer{}).DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("control channel %s: %w (run as root)", path, err)
		}
		return nil, fmt.Errorf("%w on %s: %v", ErrNoDaemon, path, err)
	}
	return c, nil
}
