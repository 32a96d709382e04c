package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Evt* API lives in wevtapi.dll; x/sys/windows has no wrappers for it.
var (
	wevtapi       = windows.NewLazySystemDLL("wevtapi.dll")
	procEvtQuery  = wevtapi.NewProc("EvtQuery")
	procEvtNext   = wevtapi.NewProc("EvtNext")
	procEvtRender = wevtapi.NewProc("EvtRender")
	procEvtClose  = wevtapi.NewProc("EvtClose")
)

const (
	evtQueryChannelPath      = 0x1
	evtQueryReverseDirection = 0x200
	evtRenderEventXML        = 1
	evtBatch                 = 32
	evtNextTimeoutMs         = 5000
)

func read(ctx context.Context, q Query) ([]Event, error) {
	if strings.TrimSpace(q.Log) == "" {
		return nil, fmt.Errorf("event query without a log name")
	}
	if err := procEvtQuery.Find(); err != nil {
		return nil, fmt.Errorf("event log %q: wevtapi.dll: %w", q.Log, err)
	}
	path, err := windows.UTF16PtrFromString(q.Log)
	if err != nil {
		return nil, fmt.Errorf("event log %q: %w", q.Log, err)
	}
	query := strings.TrimSpace(q.Query)
	if query == "" {
		query = "*"
	}
	qp, err := windows.UTF16PtrFromString(query)
	if err != nil {
		return nil, fmt.Errorf("event log %q: query: %w", q.Log, err)
	}
	// Newest first, so the walk stops at the first event not after Since. A <QueryList> without
	// Path attributes takes the channel from the path argument.
	h, _, callErr := procEvtQuery.Call(0, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(qp)), evtQueryChannelPath|evtQueryReverseDirection)
	if h == 0 && strings.HasPrefix(query, "<") {
		// A structured query whose Select elements name their own channels: no path.
		h, _, callErr = procEvtQuery.Call(0, 0, uintptr(unsafe.Pointer(qp)), evtQueryChannelPath|evtQueryReverseDirection)
	}
	if h == 0 {
		return nil, fmt.Errorf("event log %q: EvtQuery: %w", q.Log, callError(callErr))
	}
	defer procEvtClose.Call(h)
	var out []Event
	handles := make([]uintptr, evtBatch)
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		var n uint32
		r, _, callErr := procEvtNext.Call(h, evtBatch, uintptr(unsafe.Pointer(&handles[0])), evtNextTimeoutMs, 0, uintptr(unsafe.Pointer(&n)))
		if r == 0 {
			if errors.Is(callErr, windows.ERROR_NO_MORE_ITEMS) || errors.Is(callErr, syscall.Errno(0)) {
				return out, nil
			}
			return out, fmt.Errorf("event log %q: EvtNext: %w", q.Log, callError(callErr))
		}
		stop := false
		for _, eh := range handles[:n] {
			if !stop {
				xmlText, err := render(eh)
				if err == nil {
					ev, perr := ParseWindowsEventXML([]byte(xmlText), q.Log)
					switch {
					case perr != nil:
					case !ev.Timestamp.After(q.Since):
						stop = true
					default:
						out = append(out, ev)
						stop = len(out) >= q.Limit
					}
				}
			}
			procEvtClose.Call(eh)
		}
		if stop {
			return out, nil
		}
	}
}

// render returns the event as XML text.
func render(h uintptr) (string, error) {
	var used, props uint32
	buf := make([]uint16, 4096)
	for {
		r, _, callErr := procEvtRender.Call(0, h, evtRenderEventXML, uintptr(len(buf)*2), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&used)), uintptr(unsafe.Pointer(&props)))
		if r != 0 {
			return windows.UTF16ToString(buf[:used/2]), nil
		}
		if errors.Is(callErr, windows.ERROR_INSUFFICIENT_BUFFER) && used/2 > uint32(len(buf)) && used < 16<<20 {
			buf = make([]uint16, used/2+1)
			continue
		}
		return "", fmt.Errorf("EvtRender: %w", callError(callErr))
	}
}
