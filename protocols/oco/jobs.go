package oco

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/protocols"
)

// job is one entry of software-jobs, read loosely (ids may be ints or strings).
type job struct {
	ID           json.RawMessage
	IDText       string
	Container    json.RawMessage
	ContainerKey string
	PackageID    json.RawMessage
	Download     bool
	Procedure    string
	HasProcedure bool
	SequenceMode int64
	Restart      *int64
	Shutdown     *int64
	Exit         *int64
}

// parseJobs reads software-jobs: an array, or an object when PHP kept sparse keys.
func parseJobs(raw json.RawMessage) ([]job, error) {
	raw = bytes.TrimSpace(raw)
	if rawIsNull(raw) {
		return nil, nil
	}
	var entries []json.RawMessage
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("software-jobs: %w", err)
		}
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("software-jobs: %w", err)
		}
		for dec.More() {
			if _, err := dec.Token(); err != nil { // key
				return nil, fmt.Errorf("software-jobs: %w", err)
			}
			var e json.RawMessage
			if err := dec.Decode(&e); err != nil {
				return nil, fmt.Errorf("software-jobs: %w", err)
			}
			entries = append(entries, e)
		}
	default:
		return nil, fmt.Errorf("software-jobs is neither an array nor an object")
	}
	out := make([]job, 0, len(entries))
	for _, e := range entries {
		var m map[string]json.RawMessage
		if json.Unmarshal(e, &m) != nil {
			continue
		}
		j := job{ID: m["id"], Container: m["container-id"], PackageID: m["package-id"], Download: looseBool(m["download"])}
		j.IDText, _ = looseString(j.ID)
		j.ContainerKey, _ = looseString(j.Container)
		j.Procedure, j.HasProcedure = looseString(m["procedure"])
		j.SequenceMode, _ = looseInt(m["sequence-mode"])
		for key, dst := range map[string]**int64{"restart": &j.Restart, "shutdown": &j.Shutdown, "exit": &j.Exit} {
			if n, ok := looseInt(m[key]); ok && !rawIsNull(m[key]) {
				*dst = &n
			}
		}
		out = append(out, j)
	}
	return out, nil
}

type jobStateData struct {
	JobID      json.RawMessage `json:"job-id"`
	State      int             `json:"state"`
	ReturnCode *int            `json:"return-code"`
	Message    string          `json:"message"`
	Progress   *float64        `json:"download-progress,omitempty"`
}

// report sends one job state; the answer's job-succeeded is returned.
func (a *Adapter) report(ctx context.Context, id json.RawMessage, state int, rc *int, msg string, progress *float64) (bool, error) {
	params, err := a.call(ctx, MethodJobState, jobStateData{JobID: id, State: state, ReturnCode: rc, Message: strings.ToValidUTF8(msg, "\uFFFD"), Progress: progress})
	if err != nil {
		return false, err
	}
	return looseBool(params["job-succeeded"]), nil
}

func pf(v float64) *float64 { return &v }
func pi(v int) *int         { return &v }

// jobNotFound is the server's answer for a job it no longer has (vanished dynamic job).
func jobNotFound(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Status == http.StatusBadRequest && strings.HasPrefix(se.Body, "Job ")
}

// finish sends a final state; if the report is lost it is kept to be re-sent, never re-run.
func (a *Adapter) finish(ctx context.Context, j job, state, rc int, msg string) (succeeded bool, err error) {
	succeeded, err = a.report(ctx, j.ID, state, pi(rc), msg, nil)
	var se *ServerError
	switch {
	case err == nil:
	case jobNotFound(err):
		a.log.Warn("the server no longer has this job (a re-evaluated deployment rule can delete it); result dropped", "job", j.IDText, "err", err)
		err = nil
	case errors.As(err, &se) && se.Status == http.StatusBadRequest:
		// The report itself was refused: re-sending the same one would be refused again.
	default: // transport errors, 401, 5xx: keep it, never run the job twice
		if len(a.st.Unreported) < 100 {
			a.st.Unreported = append(a.st.Unreported, finalReport{ID: j.ID, State: state, RC: rc, Message: strings.ToValidUTF8(msg, "\uFFFD")})
		}
	}
	a.st.InFlight = nil
	if serr := a.save(); serr != nil && err == nil {
		err = serr
	}
	return succeeded, err
}

type jobOutcome int

const (
	jobSkipped jobOutcome = iota
	jobSucceeded
	jobFailed
)

// runJobs runs the offered jobs in order, honouring sequence mode and pending power actions.
func (a *Adapter) runJobs(ctx context.Context, list []job, skip map[string]bool) (ok, failed, skipped int, err error) {
	aborted := map[string]bool{}
	offered := map[string]bool{}
	for _, j := range list {
		offered[j.IDText] = true
	}
	a.dropUnofferedResults(offered)
	for _, j := range list {
		if ctx.Err() != nil {
			return ok, failed, skipped, ctx.Err()
		}
		switch {
		case rawIsNull(j.ID) || !j.HasProcedure:
			a.log.Warn("job without id or procedure skipped", "job", string(j.ID))
			skipped++
			continue
		case skip[j.IDText]:
			continue
		case aborted[j.ContainerKey]:
			a.log.Info("job skipped: an earlier job of its container failed in sequence mode", "job", j.IDText, "container", j.ContainerKey)
			skipped++
			continue
		case a.powerPending != "":
			a.log.Info("job left pending: a "+a.powerPending+" is scheduled", "job", j.IDText)
			skipped++
			continue
		}
		if done, handled := a.resendResult(ctx, j); handled {
			if done {
				ok++
			} else {
				failed++
			}
			continue
		}
		out, aborts, jerr := a.runJob(ctx, j)
		if jerr != nil && ctx.Err() != nil {
			return ok, failed, skipped, jerr
		}
		if jerr != nil {
			err = errors.Join(err, fmt.Errorf("job %s: %w", j.IDText, jerr))
		}
		switch out {
		case jobSucceeded:
			ok++
		case jobFailed:
			failed++
		}
		if aborts {
			aborted[j.ContainerKey] = true
		}
	}
	return ok, failed, skipped, err
}

// resendResult re-sends a kept final result for a job the server offers again.
func (a *Adapter) resendResult(ctx context.Context, j job) (succeeded, handled bool) {
	for i, r := range a.st.Unreported {
		id, _ := looseString(r.ID)
		if id != j.IDText {
			continue
		}
		a.log.Info("re-sending the kept result of a job instead of running it again", "job", j.IDText, "state", r.State)
		a.st.Unreported = append(a.st.Unreported[:i], a.st.Unreported[i+1:]...)
		_ = a.save()
		s, err := a.finish(ctx, j, r.State, r.RC, r.Message)
		if err != nil {
			a.log.Warn("re-sending the job result failed", "job", j.IDText, "err", err)
		}
		return s, true
	}
	return false, false
}

func (a *Adapter) dropUnofferedResults(offered map[string]bool) {
	kept := a.st.Unreported[:0]
	for _, r := range a.st.Unreported {
		if id, _ := looseString(r.ID); offered[id] {
			kept = append(kept, r)
		}
	}
	if len(kept) != len(a.st.Unreported) {
		a.st.Unreported = kept
		_ = a.save()
	}
}

// runJob runs one job and reports it. aborts is true when its container must stop.
func (a *Adapter) runJob(ctx context.Context, j job) (out jobOutcome, aborts bool, err error) {
	log := a.log.With("job", j.IDText, "container", j.ContainerKey)
	if strings.TrimSpace(j.Procedure) == "" {
		s, err := a.finish(ctx, j, StateSucceeded, 0, "")
		if err != nil || !s {
			return jobFailed, j.SequenceMode == 1 && err == nil, err
		}
		return jobSucceeded, false, nil
	}
	// Persisted first: a restart in the middle is then reported as a failure, never left
	// "executing" on the server.
	a.st.InFlight = &jobRef{ID: j.ID, Container: j.Container, Started: a.now().UTC()}
	if err := a.save(); err != nil {
		return jobFailed, false, err
	}
	fail := func(cause error) (jobOutcome, bool, error) {
		if ctx.Err() != nil {
			return jobFailed, false, cause // stopping: the in-flight record reports it later
		}
		log.Warn("job failed in the agent", "err", cause)
		s, rerr := a.finish(ctx, j, StateFailed, RCAgentError, cause.Error())
		if rerr == nil { // reported: the exchange works, only the job failed
			cause = protocols.JobFailure(cause)
		}
		return jobFailed, j.SequenceMode == 1 && !s && rerr == nil, errors.Join(cause, rerr)
	}
	var dir string
	if j.Download {
		if _, err := a.report(ctx, j.ID, StateDownload, nil, "", pf(0)); err != nil {
			return fail(fmt.Errorf("report download start: %w", err))
		}
		f, err := a.download(ctx, j)
		if err != nil {
			return fail(err)
		}
		if _, err := a.report(ctx, j.ID, StateDownload, nil, "", pf(101)); err != nil {
			os.Remove(f.Path)
			return fail(fmt.Errorf("report unpacking: %w", err))
		}
		dir, err = a.d.Jobs.Unpack(ctx, f.Path, jobs.Limits{})
		os.Remove(f.Path)
		if err != nil {
			return fail(fmt.Errorf("unpack package %s: %w", string(j.PackageID), err))
		}
	} else {
		var err error
		if dir, err = a.d.Jobs.NewStaging("oco-job"); err != nil {
			return fail(fmt.Errorf("staging folder: %w", err))
		}
	}
	defer os.RemoveAll(dir)
	if _, err := a.report(ctx, j.ID, StateExecuting, nil, "", pf(100)); err != nil {
		return fail(fmt.Errorf("report execution start: %w", err))
	}
	cmd := jobs.Command{Line: j.Procedure, Dir: dir}
	if every := a.opts.LiveOutput.D(); every > 0 {
		live := &liveOutput{}
		cmd.OutputEvery = every
		cmd.OnOutput = func(chunk []byte) {
			if live.add(chunk) {
				if _, err := a.report(ctx, j.ID, StateExecuting, nil, live.text(), pf(100)); err != nil {
					log.Debug("live output report failed", "err", err)
				}
			}
		}
	}
	log.Info("running job procedure")
	res, err := a.d.Jobs.Exec(ctx, cmd)
	if err != nil {
		return fail(fmt.Errorf("run procedure: %w", err))
	}
	if ctx.Err() != nil {
		// The agent is stopping (the runner may not flag this as Canceled when the kill won
		// the race): the in-flight record reports it as interrupted at the next start.
		return jobFailed, false, ctx.Err()
	}
	output := string(res.Output)
	if res.TimedOut {
		return fail(fmt.Errorf("procedure timed out after %s and was killed; output:\n%s", res.Duration.Round(time.Second), output))
	}
	succeeded, err := a.finish(ctx, j, StateSucceeded, res.ExitCode, output)
	if err != nil {
		return jobFailed, false, fmt.Errorf("report result: %w", err)
	}
	if !succeeded {
		log.Warn("job failed on the server's terms", "return_code", res.ExitCode)
		if j.SequenceMode == 1 {
			log.Info("sequence mode: the rest of the container is skipped")
			return jobFailed, true, nil
		}
		return jobFailed, false, nil
	}
	log.Info("job succeeded", "return_code", res.ExitCode)
	a.postActions(ctx, j)
	return jobSucceeded, false, nil
}

// postActions carries out restart / shutdown / exit, each with its delay in minutes.
func (a *Adapter) postActions(ctx context.Context, j job) {
	for _, pa := range []struct {
		v      *int64
		action jobs.PowerAction
	}{{j.Restart, jobs.Reboot}, {j.Shutdown, jobs.Shutdown}, {j.Exit, jobs.ExitAgent}} {
		if pa.v == nil || *pa.v < 0 {
			continue
		}
		var delay time.Duration
		if pa.action == jobs.ExitAgent || a.lastInv == nil || len(a.lastInv.Sessions) > 0 {
			var err error
			if delay, err = postActionDelay(*pa.v); err != nil {
				a.log.Warn("post-action not carried out", "job", j.IDText, "action", pa.action, "err", err)
				continue
			}
		} // else nobody is logged in: no one to warn, no delay
		err := a.d.Jobs.Power(ctx, jobs.PowerRequest{Action: pa.action, Delay: delay, Message: "OCO software job " + j.IDText + " requires a " + string(pa.action)})
		if err != nil {
			a.log.Warn("post-action not carried out", "job", j.IDText, "action", pa.action, "err", err)
			continue
		}
		a.powerPending = string(pa.action)
		a.log.Info("post-action scheduled; further jobs wait for the next start", "action", pa.action, "delay", delay)
		return
	}
}

// maxPostActionDelay bounds the server's delay before a post-action (the power runner refuses
// more than a week too).
const maxPostActionDelay = 7 * 24 * time.Hour

// postActionDelay converts the server's delay in minutes: a huge value would overflow
// time.Duration into a wrong, possibly zero, delay.
func postActionDelay(minutes int64) (time.Duration, error) {
	if minutes < 0 || minutes > int64(maxPostActionDelay/time.Minute) {
		return 0, fmt.Errorf("post-action delay of %d minutes is out of range (0 to %d)", minutes, int64(maxPostActionDelay/time.Minute))
	}
	return time.Duration(minutes) * time.Minute, nil
}

// liveOutput keeps the tail of a running job's output for progress reports.
type liveOutput struct {
	buf     []byte
	changed bool
}

const liveMax = 64 << 10

func (l *liveOutput) add(chunk []byte) bool {
	if len(chunk) == 0 {
		return false
	}
	l.buf = append(l.buf, chunk...)
	if len(l.buf) > liveMax {
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-liveMax:]...)
	}
	return true
}

func (l *liveOutput) text() string { return strings.ToValidUTF8(string(l.buf), "\uFFFD") }

// download fetches the package ZIP. OCO gives no digest: the length is checked against
// Content-Length, TLS protects the transfer and the unpacker checks every entry's CRC.
func (a *Adapter) download(ctx context.Context, j job) (*jobs.File, error) {
	pkg, _ := looseString(j.PackageID)
	if pkg == "" {
		return nil, errors.New("job has download = true but no package-id")
	}
	var want int64 = -1
	var lastBytes int64
	var lastPct float64
	f, err := a.d.Jobs.Download(ctx, jobs.Download{
		Client: a.downloadClient(),
		Name:   "oco-package-" + safeName(pkg) + ".zip",
		NewRequest: func(rctx context.Context) (*http.Request, error) {
			a.callMu.Lock()
			defer a.callMu.Unlock()
			if a.mode() == ModeLegacy {
				q := url.Values{"id": {pkg}, "hostname": {a.hostname}, "uid": {a.uid}, "agent-key": {a.signingKey()}}
				sep := "?"
				if strings.Contains(a.st.APIURL, "?") {
					sep = "&"
				}
				return http.NewRequestWithContext(rctx, http.MethodGet, a.st.APIURL+sep+q.Encode(), nil)
			}
			return a.newRequest(rctx, http.MethodPost, MethodDownload, map[string]any{}, json.RawMessage(j.PackageID))
		},
		CheckResponse: func(resp *http.Response) error {
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				return a.serverError(MethodDownload, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/html") {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				return fmt.Errorf("download of package %s: the server sent %s instead of a ZIP: %q", pkg, ct, strings.TrimSpace(string(body)))
			}
			total := resp.ContentLength
			if resp.StatusCode == http.StatusPartialContent {
				total = contentRangeTotal(resp.Header.Get("Content-Range"))
			}
			if total < 0 {
				return fmt.Errorf("download of package %s: no Content-Length; OCO packages have no digest, so the length is required to check them", pkg)
			}
			want = total
			return nil
		},
		Progress: func(p jobs.Progress) {
			// Reported about every 64 MiB or quarter, as the reference does: never per chunk.
			if p.Percent >= 100 || (p.Bytes-lastBytes < 64<<20 && p.Percent-lastPct < 25) {
				return
			}
			lastBytes, lastPct = p.Bytes, p.Percent
			pct := p.Percent
			if pct < 0 {
				pct = 0
			}
			if _, err := a.report(ctx, j.ID, StateDownload, nil, "", pf(float64(int(pct)))); err != nil {
				a.log.Debug("download progress report failed", "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("download package %s: %w", pkg, err)
	}
	if want >= 0 && f.Size != want {
		os.Remove(f.Path)
		return nil, fmt.Errorf("download package %s: got %d bytes, Content-Length said %d", pkg, f.Size, want)
	}
	return f, nil
}

func contentRangeTotal(h string) int64 {
	i := strings.LastIndexByte(h, '/')
	if i < 0 {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(h[i+1:]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// downloadClient is the server's client, turning a refusal into the server's own words (the
// runner would only see "HTTP 400").
func (a *Adapter) downloadClient() *http.Client {
	c := *a.client
	c.Transport = refusalTransport{base: a.client.Transport, a: a}
	return &c
}

type refusalTransport struct {
	base http.RoundTripper
	a    *Adapter
}

func (t refusalTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil || resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil, t.a.serverError(MethodDownload, resp.StatusCode, body)
}
