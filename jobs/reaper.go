package jobs

import "sync"

// Reaper is the process-wide side of running jobs on Linux: the agent is the child subreaper,
// so what a job starts and leaves behind (a daemon that detached, a grandchild whose parent
// exited) is re-parented to the agent rather than to init while the agent lives, and the
// Reaper collects those adopted processes when they exit. Commands the agent starts itself
// are waited for by os/exec; Runners register the ones that lead their own process group
// (jobs, shells) so the Reaper never takes their exit status. Elsewhere it does nothing.
// A nil *Reaper is valid and does nothing.
type Reaper struct {
	mu  sync.Mutex
	own map[int]bool // group leaders started by Runners, waited for by os/exec
}

// started runs start (which starts a process and returns its pid) so that the Reaper cannot
// look at the process between its start and its registration.
func (rp *Reaper) started(start func() (int, error)) error {
	if rp == nil {
		_, err := start()
		return err
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	pid, err := start()
	if err == nil {
		rp.own[pid] = true
	}
	return err
}

// waited forgets pid once os/exec has collected it.
func (rp *Reaper) waited(pid int) {
	if rp == nil {
		return
	}
	rp.mu.Lock()
	delete(rp.own, pid)
	rp.mu.Unlock()
}
