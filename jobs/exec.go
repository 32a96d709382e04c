package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// maxLivePending bounds live output waiting for a slow OnOutput callback.
const maxLivePending = 1 << 20

// Exec runs a command. The error is for refusal or failure to start; a non-zero exit, a
// timeout or a cancel are in the Result.
//
// The process runs in its own process group (unix) or Job Object (Windows). On timeout or
// cancel the whole tree is killed. After a normal exit, processes it left running are left
// alone; if they keep the output pipe open, the result comes defaultWaitDelay later without
// their output (they should redirect it).
func (r *Runner) Exec(ctx context.Context, c Command) (*Result, error) {
	if !r.opts.Policy.AllowExec {
		return nil, r.refuse("allow_exec")
	}
	argv, cmdline, err := commandArgv(c)
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = r.opts.Timeout
	}
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	maxOut := c.MaxOutput
	if maxOut <= 0 {
		maxOut = r.opts.MaxOutput
	}
	if maxOut <= 0 {
		maxOut = defaultMaxOutput
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	// OMNIAGENT_JOB_SERVER tells a job's program it runs under the agent (and for which
	// server): `omniagent self-update` then leaves the restart to the daemon.
	cmd.Env = append(append(os.Environ(), EnvJobServer+"="+r.opts.Server), c.Env...)
	// A Stdin reader is copied by our goroutine, not exec's: exec's Wait would wait for a
	// reader that never ends. Ours is abandoned when the process is gone.
	var stdinW *os.File
	switch in := c.Stdin.(type) {
	case nil:
	case *os.File:
		cmd.Stdin = in
	default:
		sr, sw, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("jobs: stdin pipe: %w", err)
		}
		defer sr.Close()
		cmd.Stdin, stdinW = sr, sw
	}
	// The pipe is ours, not exec's: Wait then returns when the process exits, and we decide
	// how long to wait for the output of a grandchild that escaped the kill.
	pr, pw, err := os.Pipe()
	if err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return nil, fmt.Errorf("jobs: output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	tree, err := prepareTree(cmd, cmdline)
	if err != nil {
		pr.Close()
		pw.Close()
		if stdinW != nil {
			stdinW.Close()
		}
		return nil, err
	}

	out := newCapture(maxOut)
	var live *liveOutput
	if c.OnOutput != nil {
		live = newLiveOutput(c.OnOutput, c.OutputEvery)
	}

	start := time.Now()
	if err := r.opts.Reaper.started(func() (int, error) {
		if err := tree.start(cmd); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	}); err != nil {
		pr.Close()
		pw.Close()
		tree.release()
		if stdinW != nil {
			stdinW.Close()
		}
		if live != nil {
			live.stop()
		}
		return nil, fmt.Errorf("jobs: start %q: %w", argv[0], err)
	}
	pw.Close()
	if stdinW != nil {
		go func() {
			_, _ = io.Copy(stdinW, c.Stdin)
			stdinW.Close()
		}()
	}
	r.log.Info("command started", "pid", cmd.Process.Pid, "argv0", argv[0], "timeout", timeout)
	// Recorded while it runs: an agent that dies now ends the group at its next start.
	forget := r.recordProc(cmd.Process.Pid, argv[0])

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 32<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				out.Write(buf[:n])
				if live != nil {
					live.Write(buf[:n])
				}
			}
			if err != nil {
				return
			}
		}
	}()

	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	exited := make(chan struct{})
	killed := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case <-tctx.Done():
			tree.kill()
			close(killed)
		case <-exited:
		}
	}()
	waitErr := cmd.Wait()
	r.opts.Reaper.waited(cmd.Process.Pid)
	forget()
	close(exited)
	<-watchDone // so `killed` is settled before it is read
	// After a normal exit, what the command left running (an installer's real work after its
	// bootstrapper exits, a service it started) is left alone.
	tree.release()

	select {
	case <-readDone:
	case <-time.After(defaultWaitDelay):
		// A grandchild that left the group still holds the pipe: stop reading.
		r.log.Warn("output pipe still open after the command exited; closing it", "pid", cmd.Process.Pid)
	}
	pr.Close()
	if live != nil {
		live.stop()
	}

	res := &Result{ExitCode: cmd.ProcessState.ExitCode(), Duration: time.Since(start)}
	res.Output, res.Truncated = out.Bytes()
	select {
	case <-killed:
		res.ExitCode = -1
		if ctx.Err() != nil {
			res.Canceled = true
		} else {
			res.TimedOut = true
		}
	default:
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		return res, fmt.Errorf("jobs: wait for %q: %w", argv[0], waitErr)
	}
	r.log.Info("command ended", "pid", cmd.Process.Pid, "exit", res.ExitCode, "timed_out", res.TimedOut,
		"canceled", res.Canceled, "output_bytes", out.total, "duration", res.Duration)
	return res, nil
}

// capture keeps the first and last half of the output and counts what was cut.
type capture struct {
	mu    sync.Mutex
	max   int64
	head  []byte
	tail  []byte // ring of capacity max-len(head)
	pos   int    // next write position in tail once it is full
	full  bool
	total int64
}

func newCapture(max int64) *capture {
	if max < 64 {
		max = 64
	}
	return &capture{max: max}
}

func (c *capture) Write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	headCap := int(c.max / 2)
	if n := headCap - len(c.head); n > 0 {
		if n > len(p) {
			n = len(p)
		}
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	tailCap := int(c.max) - headCap
	if len(p) >= tailCap {
		c.tail = append(c.tail[:0], p[len(p)-tailCap:]...)
		c.pos, c.full = 0, true
		return
	}
	for len(p) > 0 {
		if !c.full {
			n := tailCap - len(c.tail)
			if n > len(p) {
				n = len(p)
			}
			c.tail = append(c.tail, p[:n]...)
			p = p[n:]
			if len(c.tail) == tailCap {
				c.full, c.pos = true, 0
			}
			continue
		}
		n := copy(c.tail[c.pos:], p)
		p = p[n:]
		c.pos = (c.pos + n) % tailCap
	}
}

// Bytes returns head + tail, with a marker saying how much was cut from the middle.
func (c *capture) Bytes() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := int64(len(c.head) + len(c.tail))
	out := make([]byte, 0, kept+80)
	out = append(out, c.head...)
	cut := c.total - kept
	if cut > 0 {
		out = append(out, "\n[... omniagent: "+strconv.FormatInt(cut, 10)+" bytes of output cut here ...]\n"...)
	}
	if c.full {
		out = append(out, c.tail[c.pos:]...)
		out = append(out, c.tail[:c.pos]...)
	} else {
		out = append(out, c.tail...)
	}
	return out, cut > 0
}

// liveOutput hands output to a callback from one goroutine, in order, batched every
// `every` (or as it arrives), never blocking the reader for long.
type liveOutput struct {
	fn      func([]byte)
	every   time.Duration
	mu      sync.Mutex
	pending []byte
	dropped int64
	notify  chan struct{}
	done    chan struct{}
	exited  chan struct{}
}

func newLiveOutput(fn func([]byte), every time.Duration) *liveOutput {
	l := &liveOutput{fn: fn, every: every, notify: make(chan struct{}, 1),
		done: make(chan struct{}), exited: make(chan struct{})}
	go l.loop()
	return l
}

func (l *liveOutput) Write(p []byte) {
	l.mu.Lock()
	if len(l.pending)+len(p) > maxLivePending {
		l.dropped += int64(len(p))
	} else {
		l.pending = append(l.pending, p...)
	}
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *liveOutput) flush() {
	l.mu.Lock()
	p, dropped := l.pending, l.dropped
	l.pending, l.dropped = nil, 0
	l.mu.Unlock()
	if dropped > 0 {
		p = append(p, "\n[... omniagent: "+strconv.FormatInt(dropped, 10)+" bytes of live output dropped ...]\n"...)
	}
	if len(p) > 0 {
		l.fn(p)
	}
}

func (l *liveOutput) loop() {
	defer close(l.exited)
	var tick <-chan time.Time
	if l.every > 0 {
		t := time.NewTicker(l.every)
		defer t.Stop()
		tick = t.C
	}
	for {
		if tick != nil {
			select {
			case <-tick:
			case <-l.done:
				l.flush()
				return
			}
		} else {
			select {
			case <-l.notify:
			case <-l.done:
				l.flush()
				return
			}
		}
		l.flush()
	}
}

// stop delivers what is left and waits for the callback to return.
func (l *liveOutput) stop() {
	close(l.done)
	<-l.exited
}
