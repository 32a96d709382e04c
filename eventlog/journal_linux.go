package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// journalTimeout bounds one journalctl run.
const journalTimeout = 60 * time.Second

func read(ctx context.Context, q Query) ([]Event, error) {
	if q.Log != JournalLog {
		return nil, fmt.Errorf("event log %q: %w (only %q is read on Linux)", q.Log, ErrUnsupportedLog, JournalLog)
	}
	f, err := ParseJournalFilter(q.Query)
	if err != nil {
		return nil, err
	}
	return runJournalctl(ctx, f, q.Since, q.Limit, nil)
}

// runJournalctl streams `journalctl --output=json` and parses it; extra goes before the
// matches (tests pass --directory).
func runJournalctl(ctx context.Context, f JournalFilter, since time.Time, limit int, extra []string) ([]Event, error) {
	path, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, fmt.Errorf("read the journal: journalctl not found: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, journalTimeout)
	defer cancel()
	args := []string{"--output=json", "--no-pager", "--quiet", "--all"}
	if !since.IsZero() && since.Unix() > 0 {
		args = append(args, "--since=@"+strconv.FormatInt(since.Unix(), 10))
	}
	args = append(args, extra...)
	args = append(args, f.Matches()...)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("read the journal: start journalctl: %w", err)
	}
	events, perr := ParseJournal(out, f, since, limit)
	full := limit > 0 && len(events) >= limit
	if full {
		cancel() // enough: stop journalctl instead of reading the rest
	}
	werr := cmd.Wait()
	switch {
	case perr != nil && !full:
		return events, perr
	case werr != nil && !full:
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "No journal files were found") {
			return nil, nil
		}
		if ctx.Err() != nil {
			return events, fmt.Errorf("read the journal: journalctl did not finish in %s: %w", journalTimeout, ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			return events, fmt.Errorf("read the journal: journalctl exited %d: %s", ee.ExitCode(), msg)
		}
		return events, fmt.Errorf("read the journal: %w", werr)
	}
	return events, nil
}

// limitedBuffer keeps the first max bytes of stderr and drops the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}
