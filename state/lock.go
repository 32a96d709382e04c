package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file held locked for the life of the agent using the state folder.
const lockName = "agent.lock"

// ErrLocked is wrapped by Lock's error when another process holds the state folder.
var ErrLocked = errors.New("the state folder is in use by another omniagent")

// Lock is the exclusive hold of a state folder by one agent process.
type Lock struct {
	f *os.File
}

// Lock takes the state folder for this process: a second daemon or --oneshot on the same
// folder would report the first one's jobs as interrupted and answer the server twice. The
// lock is released by Unlock or when the process ends, whatever the way (kill -9 included):
// it is an OS lock (flock, LockFileEx), not the file's existence.
func (s *Store) Lock() (*Lock, error) {
	p := filepath.Join(s.dir, lockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state lock %s: %w", p, err)
	}
	held, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("state lock %s: %w", p, err)
	}
	if held {
		data, _ := os.ReadFile(p)
		f.Close()
		pid := strings.TrimSpace(string(data))
		if _, perr := strconv.Atoi(pid); perr != nil {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%w (pid %s holds %s): stop it first, or give this run another [agent] state_dir", ErrLocked, pid, p)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("state lock %s: write pid: %w", p, err)
		}
	}
	return &Lock{f: f}, nil
}

// Unlock releases the folder. The file stays (removing it would race with a new holder).
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the OS lock
	l.f = nil
	return err
}
