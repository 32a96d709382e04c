package jobs

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Defaults used when neither the runner's Options nor the request set a value.
const (
	defaultMaxOutput   = 1 << 20         // captured output, head + tail
	defaultMaxDownload = 4 << 30         // one payload
	defaultTimeout     = time.Hour       // a command with no timeout anywhere
	defaultWaitDelay   = 2 * time.Second // pipes held by an escaped grandchild
	defaultUnpackBytes = 8 << 30
	defaultUnpackFiles = 100000
)

// Runner executes jobs for one server under its policy.
type Runner struct {
	opts     Options
	log      *slog.Logger
	exitOnce exitState
}

// New returns a runner.
func New(o Options) *Runner {
	l := o.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Runner{opts: o, log: l}
}

// Policy is the runner's policy.
func (r *Runner) Policy() Policy { return r.opts.Policy }

// refuse builds the policy error an adapter reports to its server.
func (r *Runner) refuse(key string) error {
	name := r.opts.Server
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Errorf("jobs: %s is false for server %q: %w", key, name, ErrRefused)
}

// spool returns the spool folder, creating it 0700.
func (r *Runner) spool() (string, error) {
	dir := r.opts.SpoolDir
	if dir == "" {
		return "", fmt.Errorf("jobs: no spool folder configured for server %q", r.opts.Server)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("jobs: spool folder: %w", err)
	}
	return dir, nil
}

// NewStaging makes a fresh, empty folder in the spool folder.
func (r *Runner) NewStaging(prefix string) (string, error) {
	dir, err := r.spool()
	if err != nil {
		return "", err
	}
	p, err := os.MkdirTemp(dir, safeName(prefix, "staging")+"-")
	if err != nil {
		return "", fmt.Errorf("jobs: staging folder: %w", err)
	}
	return p, nil
}

// safeName turns a server-provided hint into one harmless path element.
func safeName(hint, def string) string {
	hint = filepath.Base(strings.ReplaceAll(hint, "\\", "/"))
	var b strings.Builder
	for _, c := range hint {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" || s == "_" {
		return def
	}
	return s
}
