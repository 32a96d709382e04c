package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// StartReaper makes this process the child subreaper (prctl PR_SET_CHILD_SUBREAPER) and
// reaps adopted processes until ctx ends.
func StartReaper(ctx context.Context, log *slog.Logger) (*Reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("jobs: become the child subreaper: %w", err)
	}
	rp := &Reaper{own: map[int]bool{}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGCHLD)
	go func() {
		defer signal.Stop(sig)
		tick := time.NewTicker(time.Minute) // a SIGCHLD coalesced with another is not lost
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			case <-tick.C:
			}
			if n := rp.reapAdopted(); n > 0 && log != nil {
				log.Debug("reaped processes adopted from jobs", "count", n)
			}
		}
	}()
	return rp, nil
}

// reapAdopted collects exited children that os/exec is not waiting for: not in the agent's
// own process group (commands run by collectors and such) and not registered.
func (rp *Reaper) reapAdopted() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	self, selfGroup := os.Getpid(), syscall.Getpgrp()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || rp.own[pid] {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:])) // state ppid pgrp ...
		if len(f) < 3 || f[0] != "Z" || f[1] != strconv.Itoa(self) || f[2] == strconv.Itoa(selfGroup) {
			continue
		}
		var ws unix.WaitStatus
		if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil && got == pid {
			n++
		}
	}
	return n
}
