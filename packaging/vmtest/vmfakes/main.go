// Command vmfakes runs the agent's protocol fakes inside the Linux VM test (packaging/vmtest):
// the OCO fake (ocofake) and the JumpCloud System Context fake (jcfake), on the VM's own
// loopback, plus a small control API the guest test script uses to add a job and read what the
// fakes saw. Every JumpCloud request is also appended (and fsynced) to a file, so a request
// made while the machine powers off is still on disk at the next boot.
//
//	vmfakes enroll DIR ID                  write DIR/jcagent.conf and DIR/client.key for system ID
//	vmfakes serve -dir DIR [-jc-system DIR]... [-jc-group ID]...
//	vmfakes ctl METHOD PATH [KEY=VALUE]...  call the control API, print the answer
//	vmfakes probe                           ask the agent's shutdown detector, with its debug log
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omniagent/omniagent/protocols/jumpcloud"
	"github.com/omniagent/omniagent/protocols/jumpcloud/jcfake"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/shutdown"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vmfakes enroll DIR ID | vmfakes serve [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "enroll":
		if len(os.Args) != 4 {
			err = errors.New("usage: vmfakes enroll DIR ID")
			break
		}
		err = enroll(os.Args[2], os.Args[3])
	case "serve":
		err = serve(os.Args[2:])
	case "probe":
		log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
		t0 := time.Now()
		down := (&shutdown.Systemd{Root: "/", UID: os.Getuid(), Logger: log}).SystemShuttingDown(context.Background())
		fmt.Printf("vmfakes probe: system shutting down: %v (%s)\n", down, time.Since(t0).Round(time.Millisecond))
	case "probe-raw":
		err = probeRaw()
	case "ctl":
		if len(os.Args) < 4 {
			err = errors.New("usage: vmfakes ctl METHOD PATH [KEY=VALUE]...")
			break
		}
		err = ctl(os.Args[2], os.Args[3], os.Args[4:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmfakes:", err)
		os.Exit(1)
	}
}

// enroll plays the JumpCloud agent's enrolment: a key pair and a jcagent.conf naming the system.
func enroll(dir, id string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	keyPath := filepath.Join(dir, "client.key")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := os.WriteFile(keyPath, pemKey, 0o600); err != nil {
		return err
	}
	conf, _ := json.Marshal(map[string]string{"systemKey": id, "agentServerHost": "agent.jumpcloud.com", "clientKey": keyPath})
	return os.WriteFile(filepath.Join(dir, "jcagent.conf"), conf, 0o600)
}

// ctl calls the control API (the VM has no curl) and prints the answer body.
func ctl(method, path string, kv []string) error {
	form := url.Values{}
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		form.Add(k, v)
	}
	addr := os.Getenv("VMFAKES_CONTROL")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	target, body := "http://"+addr+path, form.Encode()
	if method == http.MethodGet {
		target, body = target+"?"+body, ""
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	os.Stdout.Write(answer)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

// getSystemState is the Properties.Get(SystemState) call the shutdown detector sends (serial 1),
// as shutdown/dbus.go encodes it.
const getSystemState = "6c01000138000000010000009000000001016f00190000002f6f72672f667265656465736b746f702f73797374656d643100000000000000020173001f0000006f72672e667265656465736b746f702e444275732e50726f70657274696573000301730003000000476574000000000006017300180000006f72672e667265656465736b746f702e73797374656d643100000000000000000801670002737300200000006f72672e667265656465736b746f702e73797374656d64312e4d616e61676572000000000b00000053797374656d537461746500"

// probeRaw does the detector's exchange by hand and prints what systemd sends back, with times:
// for diagnosing the D-Bus client against a real systemd.
func probeRaw() error {
	t0 := time.Now()
	c, err := net.DialTimeout("unix", "/run/systemd/private", 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "\x00AUTH EXTERNAL %x\r\nBEGIN\r\n", strconv.Itoa(os.Getuid()))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	fmt.Printf("auth answer after %s: %q %v\n", time.Since(t0).Round(time.Millisecond), buf[:n], err)
	msg, _ := hex.DecodeString(getSystemState)
	c.Write(msg)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			fmt.Printf("after %s: %d bytes %x\n", time.Since(t0).Round(time.Millisecond), n, buf[:n])
			return nil // the answer came: enough
		}
		if err != nil {
			fmt.Printf("after %s: %v\n", time.Since(t0).Round(time.Millisecond), err)
			return nil
		}
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dir := fs.String("dir", "/var/lib/vmfakes", "folder for the OCO CA and the JumpCloud request log")
	ocoAddr := fs.String("oco", "127.0.0.1:8443", "OCO fake address (HTTPS)")
	jcAddr := fs.String("jc", "127.0.0.1:8444", "JumpCloud fake address (plain HTTP)")
	ctlAddr := fs.String("control", "127.0.0.1:8080", "control API address")
	regKey := fs.String("registration-key", "vmtest-registration-key", "OCO registration key")
	slow := fs.Duration("jc-slow", 0, "answer JumpCloud DELETE and group-membership calls only after this long (a slow network at shutdown)")
	var systems, groups multi
	fs.Var(&systems, "jc-system", "folder written by `vmfakes enroll` (repeatable)")
	fs.Var(&groups, "jc-group", "system group every system is a member of (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}

	oco := ocofake.New(ocofake.Options{RegistrationKey: *regKey, SelfRegistration: true})
	if err := oco.StartTLS(*ocoAddr); err != nil {
		return err
	}
	defer oco.Close()
	if err := oco.WriteCA(filepath.Join(*dir, "oco-ca.pem")); err != nil {
		return err
	}

	jc := jcfake.New(jcfake.Options{})
	for _, g := range groups {
		jc.AddGroup(g)
	}
	for _, d := range systems {
		id, err := jumpcloud.LoadIdentity(jumpcloud.Paths{}, filepath.Join(d, "jcagent.conf"), "")
		if err != nil {
			return err
		}
		jc.AddSystem(&jcfake.System{ID: id.SystemKey, Pub: &id.Key.PublicKey, Hostname: "vmtest"})
		for _, g := range groups {
			jc.JoinGroup(g, id.SystemKey)
		}
	}
	rec, err := os.OpenFile(filepath.Join(*dir, "jc-requests.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer rec.Close()
	// A start marker: the guest script reads what one boot's fake saw, up to the next start.
	fmt.Fprintf(rec, "# vmfakes started %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	rec.Sync()
	jcSrv := &http.Server{Handler: &recorder{next: jc, f: rec, slow: *slow}, ReadHeaderTimeout: 10 * time.Second}
	jcLn, err := net.Listen("tcp", *jcAddr)
	if err != nil {
		return err
	}
	go jcSrv.Serve(jcLn)
	defer jcSrv.Close()

	ctl := http.NewServeMux()
	ctl.HandleFunc("POST /oco/job", func(w http.ResponseWriter, r *http.Request) {
		id := oco.AddJob(ocofake.Job{ID: 1, ContainerID: 1, Hostname: r.FormValue("host"), Procedure: r.FormValue("procedure"), SuccessCodes: "0"})
		writeJSON(w, id)
	})
	ctl.HandleFunc("GET /oco/job", func(w http.ResponseWriter, r *http.Request) {
		j, ok := oco.Job(1)
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, j)
	})
	ctl.HandleFunc("POST /oco/event-rule", func(w http.ResponseWriter, r *http.Request) {
		oco.AddEventRule(ocofake.EventRule{Log: r.FormValue("log"), Query: r.FormValue("query")})
	})
	ctl.HandleFunc("GET /oco/events", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, oco.Events()) })
	ctl.HandleFunc("GET /oco/computers", func(w http.ResponseWriter, r *http.Request) {
		c, ok := oco.Computer(r.FormValue("host"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, map[string]any{"hostname": c.Hostname, "agent_version": c.AgentVersion, "updates": c.Updates, "last_ping": c.LastPing})
	})
	ctl.HandleFunc("GET /oco/url", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, oco.URL()) })
	ctlSrv := &http.Server{Handler: ctl, ReadHeaderTimeout: 10 * time.Second}
	ctlLn, err := net.Listen("tcp", *ctlAddr)
	if err != nil {
		return err
	}
	go ctlSrv.Serve(ctlLn)
	defer ctlSrv.Close()

	fmt.Printf("vmfakes: OCO %s, JumpCloud http://%s, control http://%s\n", oco.URL(), jcLn.Addr(), ctlLn.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("vmfakes: stopping")
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// recorder appends one line per JumpCloud request ("METHOD TARGET STATUS TIME [BODY]") and syncs it to disk
// before the answer leaves, so what the fake answered is on disk even if the power goes next.
type recorder struct {
	next http.Handler
	slow time.Duration
	mu   sync.Mutex
	f    *os.File
}

type bufferedWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.h }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if rc.slow > 0 && (r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/members")) {
		select {
		case <-time.After(rc.slow):
		case <-r.Context().Done(): // the client gave up (or died): nothing was changed
			rc.mu.Lock()
			fmt.Fprintf(rc.f, "ABORTED %s %s after %s\n", r.Method, r.URL.RequestURI(), time.Since(start).Round(time.Millisecond))
			rc.f.Sync()
			rc.mu.Unlock()
			return
		}
	}
	bw := &bufferedWriter{h: w.Header()}
	rc.next.ServeHTTP(bw, r)
	if bw.status == 0 {
		bw.status = http.StatusOK
	}
	rc.mu.Lock()
	line := fmt.Sprintf("%s %s %d %s", r.Method, r.URL.RequestURI(), bw.status, time.Now().UTC().Format(time.RFC3339Nano))
	if strings.HasSuffix(r.URL.Path, "/members") { // add or remove: the body says which
		line += " " + strings.Join(strings.Fields(string(body)), "")
	}
	fmt.Fprintln(rc.f, line)
	rc.f.Sync()
	rc.mu.Unlock()
	w.WriteHeader(bw.status)
	w.Write(bw.body)
}
