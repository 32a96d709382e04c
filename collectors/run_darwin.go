package collectors

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// macRun runs a system tool by absolute path (a launchd service has a minimal PATH) under a
// timeout and returns its stdout; a failure carries the start of stderr.
func macRun(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		return nil, fmt.Errorf("%s: %w: %s", name, err, regShorten(strings.TrimSpace(stderr.String()), 200))
	}
	return stdout.Bytes(), nil
}

// runSystemProfiler is the one system_profiler invocation the categories share.
func runSystemProfiler(ctx context.Context) ([]byte, error) {
	args := append([]string{"-json"}, sysProfilerTypes...)
	// No deadline of its own: sysProfiler.get gives it one.
	return macRun(ctx, 24*time.Hour, "/usr/sbin/system_profiler", args...)
}
