package oco

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/jobs"
)

const (
	maxCheckOutput   = 64 << 10 // per check
	maxCheckServices = 1000     // per hello
	checkParallelism = 4
)

// service is one CheckMK local-check result as hello sends it. The server reads "metrics"
// (the official agent misspells it "merics", so OCO shows "-" for its metrics).
type service struct {
	Status  int    `json:"status"`
	Name    string `json:"name"`
	Metrics string `json:"metrics"`
	Details string `json:"details"`
}

// serviceChecks runs the local checks at most every interval and keeps the last results.
// The checks are the administrator's own executables (service_checks_dir), not a server's
// commands: their runner has its own exec policy, and the folder's ownership is the gate.
type serviceChecks struct {
	runner  *jobs.Runner
	mu      sync.Mutex
	lastRun time.Time
	results []service
}

// services returns the cached results, running the checks first when they are due.
func (a *Adapter) services(ctx context.Context) []service {
	dir := a.opts.ServiceChecksDir
	if dir == "" {
		return []service{}
	}
	c := &a.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	if every := a.opts.ServiceChecksInterval.D(); c.results != nil && every > 0 && a.now().Sub(c.lastRun) < every {
		return c.results
	}
	c.results = a.runChecks(ctx, dir)
	c.lastRun = a.now()
	return c.results
}

func (a *Adapter) runChecks(ctx context.Context, dir string) []service {
	if err := checkOwner(dir, true); err != nil {
		a.log.Warn("service checks refused: the folder is not safe to run programs from", "dir", dir, "err", err)
		return []service{{Status: 3, Name: "omniagent service checks", Metrics: "-", Details: "refused: " + err.Error()}}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		a.log.Warn("service checks: cannot read the folder", "dir", dir, "err", err)
		return []service{{Status: 3, Name: "omniagent service checks", Metrics: "-", Details: "cannot read " + dir + ": " + err.Error()}}
	}
	var paths []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	sort.Strings(paths)
	results := make([][]service, len(paths))
	sem := make(chan struct{}, checkParallelism)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = a.runCheck(ctx, p)
		}()
	}
	wg.Wait()
	out := []service{}
	for _, r := range results {
		out = append(out, r...)
	}
	if len(out) > maxCheckServices {
		a.log.Warn("service checks: too many services; the rest are not sent", "services", len(out), "sent", maxCheckServices)
		out = out[:maxCheckServices]
	}
	return out
}

// runCheck runs one executable and parses its lines. A refused or failed check becomes an
// UNKNOWN service named after the file, so the administrator sees it on the server.
func (a *Adapter) runCheck(ctx context.Context, path string) []service {
	name := "omniagent check " + filepath.Base(path)
	argv, err := checkArgv(path)
	if err != nil {
		return nil // not a program (a README, say): skipped silently
	}
	if err := checkOwner(path, false); err != nil {
		a.log.Warn("service check refused", "check", path, "err", err)
		return []service{{Status: 3, Name: name, Metrics: "-", Details: "refused: " + err.Error()}}
	}
	res, err := a.checks.runner.Exec(ctx, jobs.Command{Argv: argv, Dir: filepath.Dir(path), Timeout: a.opts.ServiceChecksTimeout.D(), MaxOutput: maxCheckOutput})
	if err != nil {
		a.log.Warn("service check could not run", "check", path, "err", err)
		return []service{{Status: 3, Name: name, Metrics: "-", Details: "could not run: " + err.Error()}}
	}
	if res.TimedOut {
		a.log.Warn("service check killed at its timeout", "check", path, "timeout", a.opts.ServiceChecksTimeout.D())
		return []service{{Status: 3, Name: name, Metrics: "-", Details: fmt.Sprintf("timed out after %s and was killed", a.opts.ServiceChecksTimeout.D())}}
	}
	svcs, bad := parseLocalChecks(res.Output)
	for _, b := range bad {
		a.log.Warn("service check printed a line that is not a CheckMK local check; skipped", "check", path, "line", b)
	}
	if res.ExitCode != 0 && len(svcs) == 0 {
		return []service{{Status: 3, Name: name, Metrics: "-", Details: fmt.Sprintf("exited %d without a result line", res.ExitCode)}}
	}
	return svcs
}

// parseLocalChecks reads CheckMK local-check output: one service a line,
// `<status> <name> <metrics> <details>`; section headers (<<<local>>>) and blank lines are
// skipped; other lines that do not parse are returned in bad.
func parseLocalChecks(out []byte) (svcs []service, bad []string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxCheckOutput)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "<<<") {
			continue
		}
		s, err := parseLocalCheck(line)
		if err != nil {
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			bad = append(bad, line+" ("+err.Error()+")")
			continue
		}
		svcs = append(svcs, s)
	}
	return svcs, bad
}

func parseLocalCheck(line string) (service, error) {
	statusField, rest, ok := strings.Cut(strings.TrimLeft(line, " \t"), " ")
	if !ok {
		return service{}, fmt.Errorf("no service name")
	}
	rest = strings.TrimLeft(rest, " ")
	var name string
	if strings.HasPrefix(rest, `"`) {
		end := strings.Index(rest[1:], `"`)
		if end < 0 {
			return service{}, fmt.Errorf("unterminated quoted service name")
		}
		name, rest = rest[1:1+end], rest[2+end:]
	} else {
		name, rest, _ = strings.Cut(rest, " ")
	}
	if name == "" {
		return service{}, fmt.Errorf("empty service name")
	}
	rest = strings.TrimLeft(rest, " ")
	metrics, details, _ := strings.Cut(rest, " ")
	if metrics == "" {
		return service{}, fmt.Errorf("no metrics field (use - for none)")
	}
	s := service{Name: name, Metrics: metrics, Details: strings.TrimSpace(details)}
	switch statusField {
	case "0", "1", "2", "3":
		s.Status = int(statusField[0] - '0')
	case "P":
		// Dynamic status: computed from the metrics' levels as CheckMK does; the text is kept.
		s.Status = dynamicStatus(metrics)
	default:
		return service{}, fmt.Errorf("status %q is not 0, 1, 2, 3 or P", statusField)
	}
	return s, nil
}

// dynamicStatus applies CheckMK's levels in `name=value;warn;crit;min;max|…`: a level is
// an upper bound, or "lower:upper". The worst metric wins; no levels → OK.
func dynamicStatus(metrics string) int {
	worst := 0
	for _, m := range strings.Split(metrics, "|") {
		_, spec, ok := strings.Cut(m, "=")
		if !ok {
			continue
		}
		f := strings.Split(spec, ";")
		v, err := strconv.ParseFloat(strings.TrimRightFunc(f[0], func(r rune) bool { return (r < '0' || r > '9') && r != '.' }), 64)
		if err != nil {
			continue
		}
		level := func(i, state int) {
			if i >= len(f) || f[i] == "" {
				return
			}
			lo, hi, hasLo := strings.Cut(f[i], ":")
			if !hasLo {
				hi, lo = lo, ""
			}
			if x, err := strconv.ParseFloat(hi, 64); err == nil && v >= x {
				worst = max(worst, state)
			}
			if x, err := strconv.ParseFloat(lo, 64); err == nil && v < x {
				worst = max(worst, state)
			}
		}
		level(1, 1)
		level(2, 2)
	}
	return worst
}
