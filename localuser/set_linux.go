package localuser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// SetPassword sets the account's password on Linux: it hashes the password here (crypt(3)
// SHA-512, a fresh salt) and hands "user:hash" to `chpasswd -e` on standard input, so neither
// the password nor its hash is ever on a command line, and PAM/shadow locking stay the
// system's. Falls back to `usermod -p HASH` (the hash in argv, never the password) where
// chpasswd is missing.
func SetPassword(ctx context.Context, c Change) error {
	if err := c.check(); err != nil {
		return err
	}
	if _, err := user.Lookup(c.Username); err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return fmt.Errorf("localuser: %q: %w", c.Username, ErrNoSuchUser)
		}
		return fmt.Errorf("localuser: look up %q: %w", c.Username, err)
	}
	salt, err := NewSalt()
	if err != nil {
		return err
	}
	hash := SHA512Crypt(c.Password, salt, 0)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if path, err := exec.LookPath("chpasswd"); err == nil {
		return run(ctx, exec.CommandContext(ctx, path, "-e"), c.Username+":"+hash+"\n")
	}
	if path, err := exec.LookPath("usermod"); err == nil {
		return run(ctx, exec.CommandContext(ctx, path, "-p", hash, "--", c.Username), "")
	}
	return errors.New("localuser: neither chpasswd nor usermod is installed (package passwd)")
}

func run(ctx context.Context, cmd *exec.Cmd, stdin string) error {
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if ctx.Err() != nil {
			return fmt.Errorf("localuser: %s did not finish in time: %w", cmd.Path, ctx.Err())
		}
		return fmt.Errorf("localuser: %s failed: %w (%s)", cmd.Path, err, msg)
	}
	return nil
}
