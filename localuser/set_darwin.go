package localuser

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"os/user"
	"time"
)

// SetPassword sets the account's password on macOS with dscl, reading its "passwd" command
// from standard input (dscl's interactive mode), so the passwords are never on a command
// line. With the old password, the login keychain follows the change.
func SetPassword(ctx context.Context, c Change) error {
	if err := c.check(); err != nil {
		return err
	}
	if _, err := user.Lookup(c.Username); err != nil {
		return fmt.Errorf("localuser: %q: %w (%v)", c.Username, ErrNoSuchUser, err)
	}
	script := dsclScript(c)
	defer Zero(script)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/dscl", "-q", ".")
	cmd.Stdin = bytes.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	// dscl's interactive mode exits 0 even when a command failed: its output tells.
	if err == nil && bytes.Contains(out.Bytes(), []byte("DS Error")) {
		err = fmt.Errorf("dscl reported an error")
	}
	if err != nil {
		msg := out.String()
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("localuser: dscl passwd for %q: %w (%s)", c.Username, err, msg)
	}
	return nil
}
