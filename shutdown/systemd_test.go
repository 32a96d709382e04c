package shutdown

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeSystemd answers SystemState and ListJobs on a unix socket, as systemd's private bus
// does: EXTERNAL auth, then D-Bus messages.
type fakeSystemd struct {
	state string
	jobs  []job
	fail  bool // answer every call with an error
	uid   int
}

func (f *fakeSystemd) serve(t *testing.T, l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go f.conn(t, c)
	}
}

func (f *fakeSystemd) conn(t *testing.T, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	nul, err := br.ReadByte()
	if err != nil || nul != 0 {
		return
	}
	line, _ := br.ReadString('\n')
	want := "AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(f.uid))) + "\r\n"
	if line != want {
		fmt.Fprintf(c, "REJECTED EXTERNAL\r\n")
		return
	}
	fmt.Fprintf(c, "OK 0123456789abcdef0123456789abcdef\r\n")
	// Like systemd's sd-bus server, bytes that arrive in the same read as BEGIN are not
	// processed until more come: a client that sends BEGIN after OK and its call right behind
	// it waits forever. (The pause lets such a call arrive with BEGIN.)
	time.Sleep(30 * time.Millisecond)
	if l, _ := br.ReadString('\n'); l != "BEGIN\r\n" {
		return
	}
	if br.Buffered() > 0 {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	bo := binary.LittleEndian
	var serial uint32 = 100
	for {
		m, err := readMessage(br)
		if err != nil {
			return
		}
		serial++
		// A stray signal first: the client must skip it.
		_, _ = c.Write(message(bo, 4, serial, []field{{code: fieldPath, sig: "o", s: "/x"}, {code: fieldMember, sig: "s", s: "JobNew"}}, nil))
		serial++
		reply := []field{{code: fieldReplySerial, sig: "u", u: m.serial}}
		w := &wire{bo: bo}
		switch {
		case f.fail:
			_, _ = c.Write(message(bo, msgError, serial, append(reply, field{code: fieldErrorName, sig: "s", s: "org.freedesktop.DBus.Error.AccessDenied"}), nil))
			continue
		case m.member == "Get":
			w.sig("s")
			w.str(f.state)
			reply = append(reply, field{code: fieldSignature, sig: "g", s: "v"})
		case m.member == "ListJobs":
			w.u32(0)
			w.align(8)
			start := len(w.b)
			for i, j := range f.jobs {
				w.align(8)
				w.u32(uint32(i + 1))
				w.str(j.unit)
				w.str(j.typ)
				w.str("waiting")
				w.str(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", i+1))
				w.str("/org/freedesktop/systemd1/unit/x")
			}
			bo.PutUint32(w.b[0:], uint32(len(w.b)-start))
			reply = append(reply, field{code: fieldSignature, sig: "g", s: "a(usssoo)"})
		default:
			t.Errorf("unexpected call %q", m.member)
			return
		}
		_, _ = c.Write(message(bo, msgMethodReturn, serial, reply, w.b))
	}
}

// root builds a fake root: systemd booted (or not), an optional scheduled file, an optional
// manager socket.
func root(t *testing.T, booted bool, scheduled string, sd *fakeSystemd) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // short: unix socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if booted {
		if err := os.MkdirAll(filepath.Join(dir, "run/systemd/system"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if scheduled != "" {
		p := filepath.Join(dir, "run/systemd/shutdown/scheduled")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(scheduled), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sd != nil {
		l, err := net.Listen("unix", filepath.Join(dir, "run/systemd/private"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go sd.serve(t, l)
	}
	return dir
}

func TestSystemdDetector(t *testing.T) {
	now := time.Date(2026, 11, 5, 3, 4, 5, 0, time.UTC)
	due := fmt.Sprintf("USEC=%d\nWARN_WALL=1\nMODE=%%s\n", now.Add(-time.Second).UnixMicro())
	later := fmt.Sprintf("USEC=%d\nMODE=poweroff\n", now.Add(time.Hour).UnixMicro())
	uid := os.Getuid()
	cases := []struct {
		name      string
		booted    bool
		scheduled string
		sd        *fakeSystemd
		want      bool
	}{
		{"running: a plain stop", true, "", &fakeSystemd{state: "running", uid: uid}, false},
		{"degraded: a plain stop", true, "", &fakeSystemd{state: "degraded", uid: uid}, false},
		{"stopping for poweroff", true, "", &fakeSystemd{state: "stopping", uid: uid, jobs: []job{{"omniagent.service", "stop"}, {"shutdown.target", "start"}, {"poweroff.target", "start"}}}, true},
		{"stopping for halt", true, "", &fakeSystemd{state: "stopping", uid: uid, jobs: []job{{"halt.target", "start"}}}, true},
		{"stopping for reboot", true, "", &fakeSystemd{state: "stopping", uid: uid, jobs: []job{{"shutdown.target", "start"}, {"reboot.target", "start"}, {"systemd-reboot.service", "start"}}}, false},
		{"stopping, no target queued", true, "", &fakeSystemd{state: "stopping", uid: uid}, false},
		{"manager refuses: scheduled poweroff due", true, fmt.Sprintf(due, "poweroff"), &fakeSystemd{fail: true, uid: uid}, true},
		{"no socket: scheduled poweroff due", true, fmt.Sprintf(due, "poweroff"), nil, true},
		{"no socket: scheduled reboot due", true, fmt.Sprintf(due, "reboot"), nil, false},
		{"no socket: scheduled poweroff later", true, later, nil, false},
		{"no socket, nothing scheduled", true, "", nil, false},
		{"not systemd: scheduled poweroff due", false, fmt.Sprintf(due, "poweroff"), nil, true},
		{"not systemd, nothing", false, "", nil, false},
		{"wrong uid: auth refused, falls back", true, "", &fakeSystemd{state: "stopping", uid: uid + 1, jobs: []job{{"poweroff.target", "start"}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &Systemd{Root: root(t, c.booted, c.scheduled, c.sd), UID: uid, Now: func() time.Time { return now }}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got := d.SystemShuttingDown(ctx); got != c.want {
				t.Errorf("SystemShuttingDown = %v, want %v", got, c.want)
			}
		})
	}
}

// TestNotice: a raised Notice is a shutdown whatever the OS check says; a nil one is not.
func TestNotice(t *testing.T) {
	var n Notice
	d := &either{n: &n, check: func(context.Context) bool { return false }}
	if d.SystemShuttingDown(context.Background()) {
		t.Fatal("shutdown before Raise")
	}
	n.Raise()
	if !d.SystemShuttingDown(context.Background()) {
		t.Fatal("no shutdown after Raise")
	}
	if (&either{}).SystemShuttingDown(context.Background()) {
		t.Fatal("nil notice and no check said shutdown")
	}
	if !strings.Contains(fmt.Sprintf("%T", NewDetector(&n, nil)), "either") {
		t.Errorf("NewDetector = %T", NewDetector(&n, nil))
	}
}

// TestReadMessageRejects: truncated and oversized messages are errors, not panics.
func TestReadMessageRejects(t *testing.T) {
	good := message(binary.LittleEndian, msgMethodReturn, 7, []field{{code: fieldReplySerial, sig: "u", u: 3}, {code: fieldSignature, sig: "g", s: "s"}}, []byte{1, 0, 0, 0, 'x', 0})
	m, err := readMessage(bufio.NewReader(strings.NewReader(string(good))))
	if err != nil || m.replySerial != 3 || m.signature != "s" || m.serial != 7 {
		t.Fatalf("good message: %+v %v", m, err)
	}
	for i := range len(good) {
		if _, err := readMessage(bufio.NewReader(strings.NewReader(string(good[:i])))); err == nil {
			t.Errorf("truncated at %d accepted", i)
		}
	}
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[4:], 1<<30)
	if _, err := readMessage(bufio.NewReader(strings.NewReader(string(huge)))); err == nil {
		t.Error("huge body accepted")
	}
	bad := append([]byte(nil), good...)
	bad[0] = 'x'
	if _, err := readMessage(bufio.NewReader(strings.NewReader(string(bad)))); err == nil {
		t.Error("bad endianness accepted")
	}
}
