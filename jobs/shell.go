package jobs

import (
	"context"
	"errors"
	"io"
	"sync"
)

// ShellSession is a running interactive shell on a pty. Read returns the terminal's output
// (io.EOF once the shell has exited and its output is drained), Write types into it.
// Close ends the shell and everything it started; Wait returns its exit code.
type ShellSession struct {
	p         shellProc
	closeOnce sync.Once
	closeErr  error
}

// shellProc is the OS side of a session (creack/pty on unix, ConPTY on Windows).
type shellProc interface {
	io.ReadWriter
	resize(Size) error
	// wait blocks until the shell exits, is reaped and its process group / job is killed.
	wait() (int, error)
	// kill ends the shell's whole process tree.
	kill()
	// closeIO releases the terminal; pending reads end.
	closeIO() error
}

// Shell starts an interactive shell, if the policy allows it. ctx bounds only the start: the
// session lives until Close, the shell's exit, or the end of Bridge's context.
func (r *Runner) Shell(ctx context.Context, o ShellOptions) (*ShellSession, error) {
	if !r.opts.Policy.AllowShell {
		return nil, r.refuse("allow_shell")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Shell == "" {
		o.Shell = r.opts.Shell
	}
	if o.Cols == 0 {
		o.Cols = 80
	}
	if o.Rows == 0 {
		o.Rows = 24
	}
	p, err := startShell(o, r.opts.Reaper)
	if err != nil {
		return nil, err
	}
	r.log.Info("shell started", "shell", o.Shell, "cols", o.Cols, "rows", o.Rows)
	s := &ShellSession{p: p}
	go func() {
		code, _ := p.wait()
		r.log.Info("shell ended", "exit", code)
	}()
	return s, nil
}

// Read reads terminal output.
func (s *ShellSession) Read(b []byte) (int, error) { return s.p.Read(b) }

// Write types into the terminal.
func (s *ShellSession) Write(b []byte) (int, error) { return s.p.Write(b) }

// Resize changes the terminal size (the shell gets SIGWINCH on unix).
func (s *ShellSession) Resize(sz Size) error {
	if sz.Cols == 0 || sz.Rows == 0 {
		return errors.New("jobs: terminal size must be at least 1x1")
	}
	return s.p.resize(sz)
}

// Wait blocks until the shell exits and returns its exit code (-1 when killed).
func (s *ShellSession) Wait() (int, error) { return s.p.wait() }

// Close kills the shell and its process tree, waits for it, and releases the terminal.
func (s *ShellSession) Close() error {
	s.closeOnce.Do(func() {
		s.p.kill()
		_, _ = s.p.wait()
		s.closeErr = s.p.closeIO()
	})
	return s.closeErr
}

// Bridge copies between a session and rw (a websocket stream, say) until either side ends or
// ctx is done, then closes the session and returns the shell's exit code. rw is not closed:
// if the caller's Read may block forever, the caller closes rw once Bridge returns.
func Bridge(ctx context.Context, s *ShellSession, rw io.ReadWriter) (int, error) {
	outDone := make(chan error, 1)
	inDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(rw, s)
		outDone <- err
	}()
	go func() {
		_, err := io.Copy(s, rw)
		inDone <- err
	}()
	var err error
	select {
	case err = <-outDone: // the shell exited (or rw refused output)
	case err = <-inDone: // the remote side closed
		if err == nil {
			err = io.EOF
		}
		err = remoteEnd(err)
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.Close()
	code, werr := s.Wait()
	if err == nil {
		err = werr
	}
	return code, err
}

// remoteEnd treats the remote side closing as a normal end.
func remoteEnd(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
