// Package proxytest starts a real forward proxy (Debian's squid) with Basic authentication on
// a free loopback port, for tests of every protocol through a proxy.
//
// Go never sends requests for localhost or loopback addresses through a proxy (it is hard-coded
// in golang.org/x/net/http/httpproxy), so a test cannot point its client at 127.0.0.1 and expect
// the proxy to be used. Instead the test servers are addressed by a name (under example.com: httptest's
// certificate holds *.example.com) that squid resolves to 127.0.0.1 through its own hosts_file:
// the agent's client really talks to the proxy and the proxy really connects to the test
// server. The name has no public address (example.com is reserved and has no wildcard), so a
// request that bypassed the proxy would fail, and AccessLog shows what the proxy carried.
package proxytest

import (
	"crypto/md5"
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Host is the name squid resolves to 127.0.0.1; httptest's certificate is valid for it.
const Host = "omniagent-test.example.com"

// DeniedHost also resolves to 127.0.0.1 but squid refuses it with 403 (for refusal tests).
const DeniedHost = "denied.example.com"

// User and Password are the proxy credentials the squid accepts.
const (
	User     = "agent"
	Password = "pr0xy-S3cret"
)

// Squid is a running squid.
type Squid struct {
	Addr string // 127.0.0.1:port
	dir  string
}

// URL is the proxy URL with the given credentials (none when user is empty).
func (s *Squid) URL(user, password string) string {
	u := &url.URL{Scheme: "http", Host: s.Addr}
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

// AccessLog is squid's access log so far (one line per request or tunnel, written when it ends).
func (s *Squid) AccessLog() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "access.log"))
	return string(b)
}

// WaitLog waits up to 10 s for every want to appear in the access log (squid writes a tunnel's
// line when it closes), failing the test with the log otherwise.
func (s *Squid) WaitLog(t testing.TB, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, missing := s.AccessLog(), ""
		for _, w := range want {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not carry %q; its access log:\n%s", missing, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Target is Host with the port of a test server listening on 127.0.0.1 (addr "127.0.0.1:port"
// or a URL).
func Target(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(Host, port)
}

// binary is squid's path, and the reason when it cannot run.
func binary() (string, string) {
	p, err := exec.LookPath("squid")
	if err != nil {
		for _, c := range []string{"/usr/sbin/squid", "/usr/local/sbin/squid"} {
			if _, err := os.Stat(c); err == nil {
				p = c
			}
		}
	}
	if p == "" {
		return "", "squid is not installed (Debian package squid)"
	}
	if _, err := os.Stat(authHelper); err != nil {
		return "", authHelper + " is missing (Debian package squid)"
	}
	return p, ""
}

const authHelper = "/usr/lib/squid/basic_ncsa_auth"

// Start runs squid in the foreground (-N) with its own configuration, pid, log and cache
// directory in a temporary folder, stopped when the test ends. Without squid the test skips
// with a message naming the package, unless CI is set (then it fails).
func Start(t testing.TB) *Squid {
	t.Helper()
	bin, why := binary()
	if why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s and CI is set: the proxy tests are required", why)
		}
		t.Skipf("%s: skipping the real-proxy test", why)
	}
	dir, err := os.MkdirTemp("", "omniagent-squid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Run as root, squid switches to its own user: it must read and write here.
	if err := os.Chmod(dir, 0o777); err != nil { //nolint:gosec // throw-away test directory
		t.Fatal(err)
	}
	salt := make([]byte, 6)
	rand.Read(salt)
	for i := range salt {
		salt[i] = itoa64[int(salt[i])%64]
	}
	saltS := string(salt)
	files := map[string]string{
		"passwd": User + ":" + APR1(Password, saltS) + "\n",
		"hosts":  "127.0.0.1 " + Host + " " + DeniedHost + "\n",
	}
	// The port is picked free, then bound by squid: another process may take it in between,
	// so a start that fails is retried on a new port.
	var why2 string
	for range 3 {
		addr, ok, log := launch(t, bin, dir, files)
		if ok {
			return &Squid{Addr: addr, dir: dir}
		}
		why2 = log
	}
	t.Fatalf("squid did not start:\n%s", why2)
	return nil
}

// launch writes the configuration for a free port, starts squid and waits until it accepts
// connections; a squid that exits or stays silent is stopped and its log returned.
func launch(t testing.TB, bin, dir string, files map[string]string) (addr string, ok bool, log string) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr = net.JoinHostPort("127.0.0.1", port)
	files["squid.conf"] = fmt.Sprintf(`http_port %[2]s
pid_filename %[1]s/squid.pid
access_log stdio:%[1]s/access.log
cache_log %[1]s/cache.log
cache_store_log none
coredump_dir %[1]s
cache deny all
cache_mem 1 MB
hosts_file %[1]s/hosts
dns_timeout 2 seconds
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
buffered_logs off
auth_param basic program %[3]s %[1]s/passwd
auth_param basic realm omniagent-test
auth_param basic children 2 startup=1 idle=1
acl authed proxy_auth REQUIRED
acl denied dstdomain %[4]s
http_access deny denied
http_access allow authed
http_access deny all
`, dir, addr, authHelper, DeniedHost)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil { //nolint:gosec // squid's user reads them
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(dir, "stderr.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-N", "-d", "1", "-f", filepath.Join(dir, "squid.conf"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start squid: %v", err)
	}
	var once sync.Once
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		once.Do(func() {
			// squid's own process group: its auth helpers go with it.
			killGroup(cmd, false)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				killGroup(cmd, true)
				<-done
			}
			out.Close()
		})
	}
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Listening, and squid itself says so (not another process that took the port).
		if strings.Contains(readLog(), "Accepting HTTP Socket connections") {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Cleanup(stop)
				return addr, true, ""
			}
		}
		select {
		case <-done:
			stop()
			return addr, false, tail(readLog())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return addr, false, "no answer within 30 s:\n" + tail(readLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// APR1 is Apache's $apr1$ MD5 password hash (htpasswd -m), which basic_ncsa_auth checks.
func APR1(password, salt string) string {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	const magic = "$apr1$"
	pw := []byte(password)
	alt := md5.Sum([]byte(password + salt + password))
	ctx := md5.New()
	ctx.Write([]byte(password + magic + salt))
	for i := len(pw); i > 0; i -= 16 {
		ctx.Write(alt[:min(i, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)
	for i := range 1000 {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(pw)
		}
		final = c.Sum(nil)
	}
	var out []byte
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out = append(out, itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return magic + salt + "$" + string(out)
}
