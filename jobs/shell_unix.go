//go:build !windows

package jobs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"syscall"

	"github.com/creack/pty"
)

type unixShell struct {
	cmd  *exec.Cmd
	pty  *os.File
	done chan struct{}
	code int
	err  error
	rp   *Reaper // registered the shell as its own
}

func defaultShell() string {
	if s := os.Getenv("SHELL"); s != "" {
		return s
	}
	for _, s := range []string{"/bin/bash", "/bin/sh"} {
		if _, err := os.Stat(s); err == nil {
			return s
		}
	}
	return "/bin/sh"
}

// shellEnv is the agent's environment plus what a terminal needs, then the request's additions.
func shellEnv(extra []string) []string {
	env := os.Environ()
	has := map[string]bool{}
	for _, kv := range env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				has[kv[:i]] = true
				break
			}
		}
	}
	if !has["TERM"] {
		env = append(env, "TERM=xterm-256color")
	}
	if !has["HOME"] {
		if u, err := user.Current(); err == nil && u.HomeDir != "" {
			env = append(env, "HOME="+u.HomeDir)
		}
	}
	if !has["PATH"] {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return append(env, extra...)
}

func startShell(o ShellOptions, rp *Reaper) (shellProc, error) {
	sh := o.Shell
	if sh == "" {
		sh = defaultShell()
	}
	path, err := exec.LookPath(sh)
	if err != nil {
		return nil, fmt.Errorf("jobs: shell %q: %w", sh, err)
	}
	cmd := exec.Command(path)
	cmd.Env = shellEnv(o.Env)
	cmd.Dir = o.Dir
	if cmd.Dir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			cmd.Dir = h
		}
	}
	// pty.Start makes the shell a session leader (Setsid): its pgid is its pid.
	var f *os.File
	err = rp.started(func() (int, error) {
		var err error
		if f, err = pty.StartWithSize(cmd, &pty.Winsize{Cols: o.Cols, Rows: o.Rows}); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: start shell %q on a pty: %w", path, err)
	}
	s := &unixShell{cmd: cmd, pty: f, done: make(chan struct{}), rp: rp}
	go s.reap()
	return s, nil
}

func (s *unixShell) reap() {
	// Background jobs it left (nohup ... &) survive the shell: end them with it, while the
	// shell is still a zombie where the OS lets us wait without reaping.
	if waitNoReap {
		waitExit(s.cmd.Process.Pid)
		killSession(s.cmd.Process.Pid)
	}
	err := s.cmd.Wait()
	s.rp.waited(s.cmd.Process.Pid)
	if !waitNoReap {
		killSession(s.cmd.Process.Pid)
	}
	s.code = s.cmd.ProcessState.ExitCode()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		s.err = err
	}
	close(s.done)
}

func (s *unixShell) Read(b []byte) (int, error) {
	n, err := s.pty.Read(b)
	if err != nil && (errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed)) {
		// The slave side closed: the shell is gone.
		err = io.EOF
	}
	return n, err
}

func (s *unixShell) Write(b []byte) (int, error) { return s.pty.Write(b) }

func (s *unixShell) resize(sz Size) error {
	return pty.Setsize(s.pty, &pty.Winsize{Cols: sz.Cols, Rows: sz.Rows})
}

func (s *unixShell) wait() (int, error) {
	<-s.done
	return s.code, s.err
}

func (s *unixShell) kill() {
	select {
	case <-s.done:
	default:
		killSession(s.cmd.Process.Pid)
	}
}

// killSession kills the shell's process group and every other process of its session (an
// interactive shell gives each background job its own group). Twice, for a fork caught
// between the scan and the kill.
func killSession(sid int) {
	for range 2 {
		_ = syscall.Kill(-sid, syscall.SIGKILL)
		for _, pid := range sessionMembers(sid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (s *unixShell) closeIO() error { return s.pty.Close() }
