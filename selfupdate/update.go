package selfupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/state"
)

// Defaults.
const (
	DefaultMaxSize      = 256 << 20
	DefaultTrialTimeout = 30 * time.Second
	// MaxAttempts is how many starts the new binary gets to become healthy before the
	// previous one is restored.
	MaxAttempts = 3
	markerFile  = "selfupdate.json"
	lockFile    = "selfupdate.lock"
	staleLock   = 15 * time.Minute
)

// ErrNoKeys: self-update is off until keys are pinned.
var ErrNoKeys = errors.New("self-update is off: no public key is pinned in [update] public_keys of the config")

// ErrNotNewer is returned for a version that is not newer than the running one.
var ErrNotNewer = errors.New("the new binary's version is not newer than the running one (set [update] allow_downgrade = true to allow it)")

// Options configure an update.
type Options struct {
	StateDir       string
	Exe            string // the executable to replace; "" = this process's own
	Keys           []PublicKey
	AllowDowngrade bool
	MaxSize        int64  // refuse larger files; 0 = DefaultMaxSize
	ConfigPath     string // the new binary must accept it (`config check`); "" = the embedded default
	Running        string // the running version
	GOOS, GOARCH   string // the machine; "" = this process's
	TrialTimeout   time.Duration
	Logger         *slog.Logger
}

func (o *Options) fill() error {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.TrialTimeout <= 0 {
		o.TrialTimeout = DefaultTrialTimeout
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StateDir == "" {
		return errors.New("selfupdate: no state folder")
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("selfupdate: locate the running executable: %w", err)
		}
		if exe, err = filepath.EvalSymlinks(exe); err != nil {
			return fmt.Errorf("selfupdate: resolve the running executable: %w", err)
		}
		o.Exe = exe
	}
	return nil
}

// Marker is the update record in the state folder.
type Marker struct {
	// State is "pending" (swapped, the new binary has not proven healthy yet), "done" or
	// "rolled-back".
	State     string    `json:"state"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Exe       string    `json:"exe"`
	Previous  string    `json:"previous"`
	KeyID     string    `json:"key_id"`
	Started   time.Time `json:"started"`
	Attempts  int       `json:"attempts"`
	Finished  time.Time `json:"finished,omitzero"`
	Error     string    `json:"error,omitempty"`
	Confirmed string    `json:"confirmed_by,omitempty"`
}

// Marker states.
const (
	StatePending    = "pending"
	StateDone       = "done"
	StateRolledBack = "rolled-back"
)

// ReadMarker returns the last update record, if any.
func ReadMarker(stateDir string) (Marker, bool, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, markerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Marker{}, false, nil
	}
	if err != nil {
		return Marker{}, false, fmt.Errorf("selfupdate: read marker: %w", err)
	}
	var m Marker
	if err := json.Unmarshal(b, &m); err != nil {
		return Marker{}, false, fmt.Errorf("selfupdate: marker %s is corrupt: %w", filepath.Join(stateDir, markerFile), err)
	}
	return m, true, nil
}

func writeMarker(stateDir string, m Marker) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("selfupdate: state folder: %w", err)
	}
	if err := state.WriteFileAtomic(filepath.Join(stateDir, markerFile), b, 0o600); err != nil {
		return fmt.Errorf("selfupdate: write marker: %w", err)
	}
	return nil
}

// Describe is the one-line summary `status` shows, "" when no update was ever made.
func Describe(stateDir string) string {
	m, ok, err := ReadMarker(stateDir)
	switch {
	case err != nil:
		return err.Error()
	case !ok:
		return ""
	}
	switch m.State {
	case StatePending:
		return fmt.Sprintf("update %s → %s installed %s, waiting for the new binary to prove healthy (start %d of %d)", m.From, m.To, m.Started.Local().Format(time.DateTime), m.Attempts, MaxAttempts)
	case StateRolledBack:
		return fmt.Sprintf("UPDATE FAILED: %s → %s rolled back %s: %s", m.From, m.To, m.Finished.Local().Format(time.DateTime), m.Error)
	}
	return fmt.Sprintf("updated %s → %s, confirmed %s", m.From, m.To, m.Finished.Local().Format(time.DateTime))
}

// Result says what Install did.
type Result struct {
	From, To string
	Exe      string
	Previous string
	KeyID    string
}

// Install verifies file against its minisign signature and installs it in place of the
// running executable, keeping the previous one. The caller restarts the agent.
func Install(ctx context.Context, o Options, file string, sig io.Reader) (res Result, err error) {
	if err := o.fill(); err != nil {
		return res, err
	}
	if len(o.Keys) == 0 {
		return res, ErrNoKeys
	}
	unlock, err := lock(o.StateDir)
	if err != nil {
		return res, err
	}
	defer unlock()
	if m, ok, err := ReadMarker(o.StateDir); err != nil {
		return res, err
	} else if ok && m.State == StatePending {
		return res, fmt.Errorf("selfupdate: an update %s → %s is already in flight (installed %s): it must prove healthy or be rolled back first", m.From, m.To, m.Started.Format(time.RFC3339))
	}
	parsed, err := ParseSignature(sig)
	if err != nil {
		return res, fmt.Errorf("selfupdate: %w", err)
	}
	staged, err := stage(file, filepath.Dir(o.Exe), o.MaxSize, o.GOOS)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			os.Remove(staged)
		}
	}()
	f, err := os.Open(staged)
	if err != nil {
		return res, err
	}
	key, err := Verify(o.Keys, parsed, f, o.MaxSize)
	f.Close()
	if err != nil {
		return res, fmt.Errorf("selfupdate: %s: %w", file, err)
	}
	if err := CheckExecutable(staged, o.GOOS, o.GOARCH); err != nil {
		return res, fmt.Errorf("selfupdate: %w", err)
	}
	newVersion, err := trialVersion(ctx, staged, o.TrialTimeout)
	if err != nil {
		return res, err
	}
	if c := CompareVersions(newVersion, o.Running); c <= 0 && !o.AllowDowngrade {
		return res, fmt.Errorf("selfupdate: %s is version %s, running %s: %w", file, newVersion, o.Running, ErrNotNewer)
	}
	if err := trialConfigCheck(ctx, staged, o.ConfigPath, o.TrialTimeout); err != nil {
		return res, err
	}
	res = Result{From: o.Running, To: newVersion, Exe: o.Exe, Previous: previousPath(o.Exe), KeyID: key.IDString()}
	m := Marker{State: StatePending, From: o.Running, To: newVersion, Exe: o.Exe, Previous: res.Previous, KeyID: key.IDString(), Started: time.Now().UTC()}
	// The marker comes first: a crash after the swap must find it at the next start.
	if err := writeMarker(o.StateDir, m); err != nil {
		return res, err
	}
	if err := swap(staged, o.Exe, res.Previous); err != nil {
		_ = os.Remove(filepath.Join(o.StateDir, markerFile))
		return res, fmt.Errorf("selfupdate: swap: %w", err)
	}
	o.Logger.Warn("agent binary replaced; the agent restarts into it", "from", res.From, "to", res.To, "exe", o.Exe, "previous", res.Previous, "key", res.KeyID)
	return res, nil
}

// stage copies the candidate next to the executable (the rename must not cross file
// systems), so what is verified is what is installed.
func stage(file, dir string, max int64, goos string) (string, error) {
	src, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("selfupdate: %w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return "", fmt.Errorf("selfupdate: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("selfupdate: %s is not a regular file", file)
	}
	if fi.Size() > max {
		return "", fmt.Errorf("selfupdate: %s is %d bytes, over the %d-byte limit for an agent binary", file, fi.Size(), max)
	}
	pattern := ".omniagent-update-*"
	if goos == "windows" {
		pattern += ".exe" // CreateProcess runs only what it recognises as a program
	}
	dst, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("selfupdate: staging next to the executable: %w", err)
	}
	n, err := io.Copy(dst, io.LimitReader(src, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("%s grew past the %d-byte limit while being read", file, max)
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst.Name(), 0o755)
	}
	if err != nil {
		os.Remove(dst.Name())
		return "", fmt.Errorf("selfupdate: staging: %w", err)
	}
	return dst.Name(), nil
}

// trial runs the candidate in a bare environment, in an empty folder, with a deadline and a
// cap on its output, as the least it must do before it may replace us.
func trial(ctx context.Context, exe string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "omniagent-trial-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = bareEnv()
	out := &capped{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("did not finish within %s", timeout)
	}
	return out.String(), err
}

func trialVersion(ctx context.Context, exe string, timeout time.Duration) (string, error) {
	out, err := trial(ctx, exe, timeout, "version")
	if err != nil {
		return "", fmt.Errorf("selfupdate: the new binary failed `version`: %w (%s)", err, firstLine(out))
	}
	v, ok := parseVersionOutput(out)
	if !ok {
		return "", fmt.Errorf("selfupdate: the new binary's `version` printed %q: not an omniagent binary", firstLine(out))
	}
	return v, nil
}

func trialConfigCheck(ctx context.Context, exe, config string, timeout time.Duration) error {
	args := []string{"config", "check"}
	if config != "" {
		args = append(args, config)
	}
	out, err := trial(ctx, exe, timeout, args...)
	if err != nil {
		return fmt.Errorf("selfupdate: the new binary rejects the current config (`config check %s`): %w: %s", config, err, strings.TrimSpace(out))
	}
	return nil
}

func bareEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "SystemRoot", "SYSTEMROOT", "windir", "TEMP", "TMP", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// previousPath is where the replaced binary is kept.
func previousPath(exe string) string {
	if ext := filepath.Ext(exe); strings.EqualFold(ext, ".exe") {
		return strings.TrimSuffix(exe, ext) + ".previous" + ext
	}
	return exe + ".previous"
}

// lock makes sure only one update runs at a time on this state folder.
func lock(stateDir string) (func(), error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("selfupdate: state folder: %w", err)
	}
	p := filepath.Join(stateDir, lockFile)
	for range 2 {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(p) }, nil
		}
		fi, serr := os.Stat(p)
		if serr != nil || time.Since(fi.ModTime()) < staleLock {
			b, _ := os.ReadFile(p)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return nil, fmt.Errorf("selfupdate: another update is running (process %d, lock %s)", pid, p)
		}
		os.Remove(p) // left by a crashed update
	}
	return nil, fmt.Errorf("selfupdate: cannot take the update lock %s", p)
}
