// Package eventlog reads system event logs for servers that ask for events (OCO's event
// queries): the Windows Event Log through the Evt* API, the systemd journal through journalctl.
// Other systems have no supported log and return nothing without error.
package eventlog

import (
	"context"
	"errors"
	"time"
)

// DefaultLimit is the most events one query returns (the OCO reference agent's cap).
const DefaultLimit = 10001

// Query is one event query.
type Query struct {
	// Log is the Windows channel ("System", "Microsoft-Windows-Windows Defender/Operational") or
	// "journalctl" on Linux.
	Log string
	// Query is an Event Viewer XML <QueryList> (or an XPath) on Windows, and a JSON filter on
	// Linux: {"unit":"a.service,b.service","identifier":"sshd","priority":"0,1,2,3","grep":"re"}.
	Query string
	// Since keeps only events strictly newer than this instant.
	Since time.Time
	// Limit caps the result; 0 means DefaultLimit.
	Limit int
}

// Event is one log entry in a neutral form.
type Event struct {
	Log       string
	Provider  string
	EventID   *int // nil when the log has no such notion
	Level     *int
	Timestamp time.Time // UTC
	Data      map[string]string
}

// ErrUnsupportedLog is returned for a log name this system cannot read (say "System" on Linux).
var ErrUnsupportedLog = errors.New("log not supported on this system")

// Read runs one query. A system with no event log support returns (nil, nil).
func Read(ctx context.Context, q Query) ([]Event, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	return read(ctx, q)
}

func intPtr(v int) *int { return &v }
