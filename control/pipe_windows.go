package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A named pipe listener on x/sys/windows: each instance is created with the security
// descriptor and waited for with an overlapped ConnectNamedPipe; once connected it is handed to
// os.NewFile, which puts asynchronous handles on the Go runtime's I/O completion port (reads,
// writes and deadlines then work as for sockets).

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

type pipeListener struct {
	name  string
	sa    *windows.SecurityAttributes
	stop  windows.Handle // event set by Close
	mu    sync.Mutex
	next  windows.Handle // the instance waiting for a client (0 when none)
	close sync.Once
}

const (
	pipeOpenMode = windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED
	pipeMode     = windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS
)

// listenPipe creates the first instance exclusively (FILE_FLAG_FIRST_PIPE_INSTANCE): if
// another process made the name first, this fails instead of sharing it.
func listenPipe(name, sddl string) (*pipeListener, error) {
	// Some systems (Wine) do not enforce FILE_FLAG_FIRST_PIPE_INSTANCE: look first.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	c, err := dialPipe(ctx, name)
	cancel()
	if err == nil || errors.Is(err, os.ErrPermission) || errors.Is(err, context.DeadlineExceeded) {
		if c != nil {
			c.Close()
		}
		return nil, &os.PathError{Op: "create pipe", Path: name, Err: windows.ERROR_ACCESS_DENIED}
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("security descriptor: %w", err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafeSizeofSA)
	l := &pipeListener{name: name, sa: sa}
	h, err := l.instance(true)
	if err != nil {
		return nil, err
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	l.next, l.stop = h, ev
	return l, nil
}

func (l *pipeListener) instance(first bool) (windows.Handle, error) {
	name16, err := windows.UTF16PtrFromString(l.name)
	if err != nil {
		return 0, err
	}
	mode := uint32(pipeOpenMode)
	if first {
		mode |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	h, err := windows.CreateNamedPipe(name16, mode, pipeMode, windows.PIPE_UNLIMITED_INSTANCES, 64<<10, 4096, 0, l.sa)
	if err != nil {
		return 0, &os.PathError{Op: "create pipe", Path: l.name, Err: err}
	}
	return h, nil
}

// Accept waits for a client on the waiting instance, then makes the next one.
func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	h := l.next
	l.next = 0
	l.mu.Unlock()
	if h == 0 {
		var err error
		if h, err = l.instance(false); err != nil {
			return nil, err
		}
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	err = windows.ConnectNamedPipe(h, ov)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_PIPE_CONNECTED):
	case errors.Is(err, windows.ERROR_IO_PENDING):
		r, werr := windows.WaitForMultipleObjects([]windows.Handle{ev, l.stop}, false, windows.INFINITE)
		if werr != nil || r != windows.WAIT_OBJECT_0 {
			windows.CancelIoEx(h, ov)
			var n uint32
			windows.GetOverlappedResult(h, ov, &n, true)
			windows.CloseHandle(h)
			if werr != nil {
				return nil, werr
			}
			return nil, net.ErrClosed
		}
		var n uint32
		if err := windows.GetOverlappedResult(h, ov, &n, false); err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
			windows.CloseHandle(h)
			return nil, fmt.Errorf("connect pipe: %w", err)
		}
	default:
		windows.CloseHandle(h)
		return nil, fmt.Errorf("connect pipe: %w", err)
	}
	// The next instance is made at once: the name never goes without one of ours waiting.
	if next, err := l.instance(false); err == nil {
		l.mu.Lock()
		if l.next == 0 {
			l.next = next
		} else {
			windows.CloseHandle(next)
		}
		l.mu.Unlock()
	}
	return &pipeConn{File: os.NewFile(uintptr(h), l.name), addr: pipeAddr(l.name)}, nil
}

func (l *pipeListener) Close() error {
	l.close.Do(func() {
		windows.SetEvent(l.stop)
		l.mu.Lock()
		if l.next != 0 {
			windows.CloseHandle(l.next)
			l.next = 0
		}
		l.mu.Unlock()
	})
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }

// pipeConn is a connected pipe end.
type pipeConn struct {
	*os.File
	addr pipeAddr
}

func (c *pipeConn) LocalAddr() net.Addr  { return c.addr }
func (c *pipeConn) RemoteAddr() net.Addr { return c.addr }

// dialPipe opens the pipe, waiting while every instance is busy.
func dialPipe(ctx context.Context, name string) (net.Conn, error) {
	name16, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		h, err := windows.CreateFile(name16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			return &pipeConn{File: os.NewFile(uintptr(h), name), addr: pipeAddr(name)}, nil
		}
		if !errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var unsafeSizeofSA = unsafe.Sizeof(windows.SecurityAttributes{})
