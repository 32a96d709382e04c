package jobs

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	maxPowerMessage = 200
	maxPowerDelay   = 7 * 24 * time.Hour
	powerCmdTimeout = 30 * time.Second
)

// Power carries out a power action, if the policy allows it. Reboot and Shutdown are
// scheduled with the operating system's shutdown command (users get the message and the
// delay, rounded up to whole minutes on unix); ExitAgent calls Options.OnExit after the delay.
func (r *Runner) Power(ctx context.Context, req PowerRequest) error {
	if !r.opts.Policy.AllowPower {
		return r.refuse("allow_power")
	}
	switch req.Action {
	case Reboot, Shutdown, ExitAgent:
	default:
		return fmt.Errorf("jobs: unknown power action %q (want reboot, shutdown or exit)", req.Action)
	}
	if req.Delay < 0 || req.Delay > maxPowerDelay {
		return fmt.Errorf("jobs: power delay %v out of range (0 to %v)", req.Delay, maxPowerDelay)
	}
	req.Message = cleanMessage(req.Message)
	r.log.Warn("power action requested", "action", req.Action, "delay", req.Delay, "message", req.Message)
	if r.opts.Power != nil {
		return r.opts.Power.Do(ctx, req)
	}
	if req.Action == ExitAgent {
		return r.exitAgent(req.Delay)
	}
	return osPower{}.Do(ctx, req)
}

// exitState keeps a second exit request from calling OnExit twice.
type exitState struct {
	once sync.Once
}

func (r *Runner) exitAgent(delay time.Duration) error {
	if r.opts.OnExit == nil {
		return errors.New("jobs: this agent cannot be told to exit (no exit handler wired)")
	}
	fn := r.opts.OnExit
	r.exitOnce.once.Do(func() {
		// Asynchronous even without a delay, so the adapter can report success first.
		time.AfterFunc(max(delay, 100*time.Millisecond), fn)
	})
	return nil
}

// cleanMessage keeps a server's message printable and short: it reaches a command line.
func cleanMessage(m string) string {
	var b strings.Builder
	for _, c := range m {
		if c < 0x20 || c == 0x7f || c == '"' || c == '%' || c == '^' || c == '&' || c == '|' || c == '<' || c == '>' {
			c = ' '
		}
		b.WriteRune(c)
		if b.Len() >= maxPowerMessage {
			break
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// osPower runs the operating system's shutdown command.
type osPower struct{}

func (osPower) Do(ctx context.Context, req PowerRequest) error {
	argv, err := powerCommand(runtime.GOOS, req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, powerCmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("jobs: %s: %s: %w", req.Action, strings.TrimSpace(string(out)), err)
	}
	return nil
}

// powerCommand builds the shutdown command line for goos. The message is already cleaned.
func powerCommand(goos string, req PowerRequest) ([]string, error) {
	if req.Action != Reboot && req.Action != Shutdown {
		return nil, fmt.Errorf("jobs: power action %q has no system command", req.Action)
	}
	mins := int64((req.Delay + time.Minute - 1) / time.Minute)
	when := "now"
	if mins > 0 {
		when = "+" + strconv.FormatInt(mins, 10)
	}
	switch goos {
	case "linux":
		flag := "-r"
		if req.Action == Shutdown {
			flag = "-P"
		}
		argv := []string{"shutdown", flag, when}
		if req.Message != "" {
			argv = append(argv, req.Message)
		}
		return argv, nil
	case "darwin":
		flag := "-r"
		if req.Action == Shutdown {
			flag = "-h"
		}
		argv := []string{"/sbin/shutdown", flag, when}
		if req.Message != "" {
			argv = append(argv, req.Message)
		}
		return argv, nil
	case "windows":
		flag := "/r"
		if req.Action == Shutdown {
			flag = "/s"
		}
		argv := []string{"shutdown.exe", flag, "/t", strconv.FormatInt(int64(req.Delay/time.Second), 10)}
		if req.Message != "" {
			argv = append(argv, "/c", req.Message)
		}
		// A planned, application-initiated action in the event log.
		return append(argv, "/d", "p:4:1"), nil
	default:
		return nil, fmt.Errorf("jobs: power actions are not supported on %s", goos)
	}
}
