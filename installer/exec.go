package installer

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout bounds one systemctl/launchctl call: a start or stop waits for the agent,
// which systemd bounds by the unit's TimeoutStopSec (30 s) and default start timeout (90 s).
const commandTimeout = 2 * time.Minute

// result is what a finished command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// runner runs argv; its error means the command did not run or did not finish (a non-zero exit
// is result.code). Backends take one so tests check the argv without running anything.
type runner func(ctx context.Context, argv ...string) (result, error)

func execRunner(ctx context.Context, argv ...string) (result, error) {
	var out, errOut strings.Builder
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdout, c.Stderr = &out, &errOut
	c.WaitDelay = time.Second
	err := c.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s did not finish: %w", argv[0], ctx.Err())
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		return r, nil
	}
	return r, err
}

// command runs argv within commandTimeout; a non-zero exit is an error that carries the
// command's output, which says why (systemctl: "Unit omniagent.service not found.").
func command(run runner, argv ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	r, err := run(ctx, argv...)
	if err != nil {
		return r, fmt.Errorf("installer: %s: %w", strings.Join(argv, " "), err)
	}
	if r.code != 0 {
		return r, fmt.Errorf("installer: %s: exit status %d%s", strings.Join(argv, " "), r.code, output(r))
	}
	return r, nil
}

// output is ": " and what the command printed (stderr first), or "" when it printed nothing.
func output(r result) string {
	msg := strings.TrimSpace(r.stderr)
	if msg == "" {
		msg = strings.TrimSpace(r.stdout)
	}
	if msg == "" {
		return ""
	}
	return ": " + msg
}
