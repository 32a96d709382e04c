//go:build windows

package jobs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/charmbracelet/x/conpty"
	"golang.org/x/sys/windows"
)

// ConPTY exists from Windows 10 1809 (build 17763).
const minConPTYBuild = 17763

type winShell struct {
	cpty    *conpty.ConPty
	process windows.Handle
	job     windows.Handle
	done    chan struct{}
	code    int
	err     error
	once    sync.Once
	mu      sync.Mutex // guards job, closed by reap while kill may run
}

func defaultShell() string {
	if c := os.Getenv("ComSpec"); c != "" {
		return c
	}
	return filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
}

func shellEnv(extra []string) []string {
	env := os.Environ()
	for _, kv := range env {
		if strings.HasPrefix(strings.ToUpper(kv), "TERM=") {
			return append(env, extra...)
		}
	}
	return append(append(env, "TERM=xterm-256color"), extra...)
}

func startShell(o ShellOptions, _ *Reaper) (shellProc, error) {
	if v := windows.RtlGetVersion(); v.MajorVersion < 10 || (v.MajorVersion == 10 && v.BuildNumber < minConPTYBuild) {
		return nil, fmt.Errorf("jobs: shell not supported on this Windows (build %d; ConPTY needs 10 build %d or later)", v.BuildNumber, minConPTYBuild)
	}
	sh := o.Shell
	switch strings.ToLower(sh) {
	case "":
		sh = defaultShell()
	case "powershell":
		sh = "powershell.exe"
	case "cmd":
		sh = defaultShell()
	}
	path, err := exec.LookPath(sh)
	if err != nil {
		return nil, fmt.Errorf("jobs: shell %q: %w", sh, err)
	}
	dir := o.Dir
	if dir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			dir = h
		}
	}
	job, err := newKillOnCloseJob()
	if err != nil {
		return nil, err
	}
	// Width first: conpty's order is the reverse of creack's Winsize.
	cpty, err := conpty.New(int(o.Cols), int(o.Rows), 0)
	if err != nil {
		windows.CloseHandle(job)
		return nil, fmt.Errorf("jobs: create pseudo console: %w", err)
	}
	_, h, err := cpty.Spawn(path, []string{path}, &syscall.ProcAttr{
		Dir: dir,
		Env: shellEnv(o.Env),
		Sys: &syscall.SysProcAttr{CreationFlags: windows.CREATE_SUSPENDED},
	})
	if err != nil {
		cpty.Close()
		windows.CloseHandle(job)
		return nil, fmt.Errorf("jobs: start shell %q: %w", path, err)
	}
	proc := windows.Handle(h)
	err = windows.AssignProcessToJobObject(job, proc)
	if err == nil {
		if st, _, _ := ntResumeProcess.Call(uintptr(proc)); st != 0 {
			err = fmt.Errorf("NtResumeProcess: status 0x%x", st)
		}
	}
	if err != nil {
		windows.TerminateProcess(proc, 1)
		windows.CloseHandle(proc)
		cpty.Close()
		windows.CloseHandle(job)
		return nil, fmt.Errorf("jobs: put the shell in a job object: %w", err)
	}
	s := &winShell{cpty: cpty, process: proc, job: job, done: make(chan struct{})}
	go s.reap()
	return s, nil
}

func (s *winShell) reap() {
	defer close(s.done)
	if _, err := windows.WaitForSingleObject(s.process, windows.INFINITE); err != nil {
		s.err, s.code = fmt.Errorf("jobs: wait for shell: %w", err), -1
	} else {
		var code uint32
		if err := windows.GetExitCodeProcess(s.process, &code); err != nil {
			s.err, s.code = err, -1
		} else {
			s.code = int(code)
		}
	}
	windows.CloseHandle(s.process)
	// Closing the job kills whatever the shell left; closing the console ends pending reads.
	s.mu.Lock()
	windows.CloseHandle(s.job)
	s.job = 0
	s.mu.Unlock()
	s.closeIO()
}

func (s *winShell) Read(b []byte) (int, error) {
	n, err := s.cpty.Read(b)
	if err != nil && (errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, os.ErrClosed) || errors.Is(err, windows.ERROR_INVALID_HANDLE)) {
		return n, io.EOF
	}
	return n, err
}

func (s *winShell) Write(b []byte) (int, error) { return s.cpty.Write(b) }

func (s *winShell) resize(sz Size) error { return s.cpty.Resize(int(sz.Cols), int(sz.Rows)) }

func (s *winShell) wait() (int, error) {
	<-s.done
	return s.code, s.err
}

func (s *winShell) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.job != 0 {
		windows.TerminateJobObject(s.job, 1)
	}
}

func (s *winShell) closeIO() error {
	var err error
	s.once.Do(func() { err = s.cpty.Close() })
	return err
}
