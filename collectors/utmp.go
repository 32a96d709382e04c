package collectors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// utmp record types (utmp.h; the same values in Linux utmp and macOS utmpx).
const (
	UtmpEmpty        = 0
	UtmpRunLevel     = 1
	UtmpBootTime     = 2
	UtmpNewTime      = 3
	UtmpOldTime      = 4
	UtmpInitProcess  = 5
	UtmpLoginProcess = 6
	UtmpUserProcess  = 7
	UtmpDeadProcess  = 8
	UtmpAccounting   = 9
	utmpxShutdown    = 11 // macOS SHUTDOWN_TIME
)

// UtmpRecord is one decoded utmp/wtmp/utmpx record.
type UtmpRecord struct {
	Type int
	PID  int32
	Line string // tty: "pts/0", "tty1", ":0"
	ID   string
	User string
	Host string // remote host, or the X display
	Addr string // remote address when the record carries one
	Time time.Time
}

// ErrTruncatedUtmp says the data ended inside a record (a file being appended to): the
// complete records before it are still returned.
var ErrTruncatedUtmp = errors.New("utmp data ends inside a record")

// utmpLayout is where one record format keeps its fields.
type utmpLayout struct {
	name                                      string
	size                                      int
	typeOff, pidOff, lineOff, lineLen         int
	idOff, userOff, userLen, hostOff, hostLen int
	tvOff                                     int
	tv64                                      bool // tv_sec is 64-bit (macOS) instead of 32-bit (Linux)
	addrOff                                   int  // -1 when absent
}

// linuxUtmp is glibc's struct utmp on every 64-bit and 32-bit Linux (384 bytes, 32-bit time so
// that 32- and 64-bit programs share the file).
var linuxUtmp = utmpLayout{name: "utmp", size: 384, typeOff: 0, pidOff: 4, lineOff: 8, lineLen: 32,
	idOff: 40, userOff: 44, userLen: 32, hostOff: 76, hostLen: 256, tvOff: 340, addrOff: 348}

// darwinUtmpx is macOS's struct utmpx (640 bytes): user[256] id[4] line[32] pid type(short)
// pad timeval{int64 sec, int32 usec, pad} host[256] pad[16]uint32.
var darwinUtmpx = utmpLayout{name: "utmpx", size: 640, userOff: 0, userLen: 256, idOff: 256, lineOff: 260, lineLen: 32,
	pidOff: 292, typeOff: 296, tvOff: 304, tv64: true, hostOff: 320, hostLen: 256, addrOff: -1}

// ParseUtmp decodes Linux utmp/wtmp data (/var/run/utmp, /var/log/wtmp, /var/log/btmp).
func ParseUtmp(b []byte) ([]UtmpRecord, error) { return parseUtmp(b, linuxUtmp) }

// ParseUtmpx decodes macOS utmpx data (/var/run/utmpx).
func ParseUtmpx(b []byte) ([]UtmpRecord, error) { return parseUtmp(b, darwinUtmpx) }

func parseUtmp(b []byte, l utmpLayout) ([]UtmpRecord, error) {
	n := len(b) / l.size
	out := make([]UtmpRecord, 0, n)
	le := binary.LittleEndian // every platform we build for is little-endian
	for i := range n {
		r := b[i*l.size : (i+1)*l.size]
		var rec UtmpRecord
		rec.Type = int(int16(le.Uint16(r[l.typeOff:])))
		if rec.Type == UtmpEmpty {
			continue
		}
		rec.PID = int32(le.Uint32(r[l.pidOff:]))
		rec.Line = cString(r[l.lineOff : l.lineOff+l.lineLen])
		rec.ID = cString(r[l.idOff : l.idOff+4])
		rec.User = cString(r[l.userOff : l.userOff+l.userLen])
		rec.Host = cString(r[l.hostOff : l.hostOff+l.hostLen])
		var sec, usec int64
		if l.tv64 {
			sec, usec = int64(le.Uint64(r[l.tvOff:])), int64(int32(le.Uint32(r[l.tvOff+8:])))
		} else {
			// Unsigned: a 32-bit time wraps in 2038 as a signed value but not as unsigned.
			sec, usec = int64(le.Uint32(r[l.tvOff:])), int64(int32(le.Uint32(r[l.tvOff+4:])))
		}
		if usec < 0 || usec >= 1e6 {
			usec = 0
		}
		if sec > 0 {
			rec.Time = time.Unix(sec, usec*1000).UTC()
		}
		if l.addrOff >= 0 {
			rec.Addr = utmpAddr(r[l.addrOff : l.addrOff+16])
		}
		out = append(out, rec)
	}
	if len(b)%l.size != 0 {
		return out, fmt.Errorf("parse %s: %d trailing bytes: %w", l.name, len(b)%l.size, ErrTruncatedUtmp)
	}
	return out, nil
}

// utmpAddr decodes ut_addr_v6: IPv4 in the first word with the rest zero, else IPv6.
func utmpAddr(b []byte) string {
	if bytes.Count(b, []byte{0}) == 16 {
		return ""
	}
	if bytes.Count(b[4:], []byte{0}) == 12 {
		return netip.AddrFrom4([4]byte(b[:4])).String()
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(bytes.ToValidUTF8(bytes.TrimSpace(b), nil))
}

// LoginsFromUtmp turns wtmp/utmpx records into logins after since (zero: all), oldest first,
// with a duration when the session's end (logout on the same line, reboot, shutdown) is seen.
func LoginsFromUtmp(recs []UtmpRecord, since time.Time) []inventory.Login {
	var lb loginBuilder
	for _, r := range recs {
		lb.add(r)
	}
	return lb.result(since, 0)
}

// loginBuilder pairs login records with their ends as records stream in, so a large wtmp
// need not be held in memory. It keeps at most keep logins (the newest) when keep > 0.
type loginBuilder struct {
	keep   int
	logins []*inventory.Login
	open   map[string]*inventory.Login // line -> the session still open on it
}

func (lb *loginBuilder) add(r UtmpRecord) {
	if lb.open == nil {
		lb.open = map[string]*inventory.Login{}
	}
	end := func(l *inventory.Login, t time.Time) {
		if d := t.Sub(l.Time); d > 0 && !t.IsZero() {
			l.Duration = d.Seconds()
		}
	}
	switch r.Type {
	case UtmpUserProcess:
		if r.User == "" || r.Time.IsZero() {
			return
		}
		remote := r.Host
		if remote == "" {
			remote = r.Addr
		}
		l := &inventory.Login{User: r.User, Console: r.Line, Remote: remote, Time: r.Time}
		// A session still open on this line ended without a record: its length stays unknown.
		lb.open[r.Line] = l
		lb.logins = append(lb.logins, l)
		if lb.keep > 0 && len(lb.logins) >= 2*lb.keep {
			lb.logins = append(lb.logins[:0:0], lb.logins[len(lb.logins)-lb.keep:]...)
		}
	case UtmpDeadProcess:
		if l, ok := lb.open[r.Line]; ok {
			end(l, r.Time)
			delete(lb.open, r.Line)
		}
	case UtmpBootTime, utmpxShutdown:
		for line, l := range lb.open {
			end(l, r.Time)
			delete(lb.open, line)
		}
	case UtmpRunLevel:
		if r.User == "shutdown" {
			for line, l := range lb.open {
				end(l, r.Time)
				delete(lb.open, line)
			}
		}
	}
}

// result returns the logins after since, oldest first, at most keep (the newest) when keep > 0.
func (lb *loginBuilder) result(since time.Time, keep int) []inventory.Login {
	var out []inventory.Login
	for _, l := range lb.logins {
		if since.IsZero() || l.Time.After(since) {
			out = append(out, *l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if keep > 0 && len(out) > keep {
		out = out[len(out)-keep:]
	}
	return out
}

// SessionsFromUtmp lists who is logged in now from utmp/utmpx (live user processes).
func SessionsFromUtmp(recs []UtmpRecord) []inventory.UserSession {
	var out []inventory.UserSession
	for _, r := range recs {
		if r.Type != UtmpUserProcess || r.User == "" {
			continue
		}
		remote := r.Host
		if remote == "" {
			remote = r.Addr
		}
		out = append(out, inventory.UserSession{User: r.User, Console: r.Line, Remote: remote, Since: r.Time})
	}
	return out
}
