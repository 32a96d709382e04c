package glpi

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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/omniagent/omniagent/jobs"
	"github.com/omniagent/omniagent/lazyre"
	"github.com/omniagent/omniagent/protocols"
)

// deployVersion is the deploy task version announced to the plugin: ≥ 2.2 keeps check
// returns and user interactions as configured.
const deployVersion = "3.3"

// End strings the plugin counts as a finished job (anything else is "running").
const (
	msgJobOK      = "job successfully completed"
	msgJobSkipped = "job skipped"
)

// defaultValidity is the plugin's configValidityPeriod when it sends none.
const defaultValidity = 600 * time.Second

// flexString accepts a JSON string or number (the plugin sends numbers as strings, mostly).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	*f = flexString(n.String())
	return nil
}

type deployConfig struct {
	ConfigValidityPeriod json.Number `json:"configValidityPeriod"`
	Schedule             []struct {
		Task   string `json:"task"`
		Remote string `json:"remote"`
	} `json:"schedule"`
}

type deployJobs struct {
	Jobs            []deployJob           `json:"jobs"`
	AssociatedFiles map[string]deployFile `json:"associatedFiles"`
}

type deployJob struct {
	UUID            string                       `json:"uuid"`
	Checks          []deployCheck                `json:"checks"`
	AssociatedFiles []string                     `json:"associatedFiles"`
	Actions         []map[string]json.RawMessage `json:"actions"`
	Requires        map[string]any               `json:"requires"`
}

type deployCheck struct {
	Name   string     `json:"name"`
	Type   string     `json:"type"`
	Path   string     `json:"path"`
	Value  flexString `json:"value"`
	Return string     `json:"return"`
}

type deployFile struct {
	Name       string   `json:"name"`
	Mirrors    []string `json:"mirrors"`
	Multiparts []string `json:"multiparts"`
	P2P        int      `json:"p2p"`
	Uncompress int      `json:"uncompress"`
}

type cmdAction struct {
	Exec         string            `json:"exec"`
	Name         string            `json:"name"`
	LogLineLimit *flexString       `json:"logLineLimit"`
	RetChecks    []retCheck        `json:"retChecks"`
	Envs         map[string]string `json:"envs"`
	Checks       []deployCheck     `json:"checks"`
}

type retCheck struct {
	Type   string       `json:"type"`
	Values []flexString `json:"values"`
}

type fileAction struct {
	Name   string        `json:"name"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	List   []string      `json:"list"`
	Checks []deployCheck `json:"checks"`
}

// deployCycle polls the plugin: getConfig, then getJobs on the Deploy remote, and runs jobs.
func (a *Adapter) deployCycle(ctx context.Context) (string, error) {
	now := a.now()
	d := &a.st.Deploy
	validity := d.Validity
	if validity <= 0 {
		validity = defaultValidity
	}
	defer func() { d.NextPoll = a.now().Add(validity) }()
	cfg, plugin, err := a.getConfig(ctx)
	if err != nil {
		return "deploy: no plugin config", err
	}
	if n, err := cfg.ConfigValidityPeriod.Int64(); err == nil && n > 0 {
		// Compared in seconds: n*time.Second overflows for a huge period.
		validity = 24 * time.Hour
		if n < int64(validity/time.Second) {
			validity = time.Duration(n) * time.Second
		}
		d.Validity = a.atLeastMinDelay(validity, fmt.Sprintf("config validity period %ds", n))
		validity = d.Validity
	}
	d.PluginURL = plugin
	remote := ""
	for _, s := range cfg.Schedule {
		if strings.EqualFold(s.Task, "Deploy") && s.Remote != "" {
			remote = s.Remote
		}
	}
	d.Remote = remote
	if remote == "" {
		return "", nil
	}
	var jl deployJobs
	q := url.Values{"action": {"getJobs"}, "machineid": {a.st.DeviceID}, "version": {deployVersion}}
	if err := a.getJSON(ctx, withQuery(remote, q), &jl); err != nil {
		return "deploy: getJobs failed", fmt.Errorf("getJobs on %s (the plugin's remote; check GLPI's base URL setting if unreachable): %w", remote, err)
	}
	ok, failed := 0, 0
	var errs []error
	for _, job := range jl.Jobs {
		if err := a.runJob(ctx, remote, job, jl.AssociatedFiles); err != nil {
			failed++
			if ctx.Err() == nil { // the job failed, not the exchange: "ok, 1 job failed"
				err = protocols.JobFailure(err)
			}
			errs = append(errs, fmt.Errorf("job %s: %w", job.UUID, err))
		} else {
			ok++
		}
	}
	_ = now
	if ok+failed == 0 {
		return "", nil
	}
	return fmt.Sprintf("deploy: %d job(s) done, %d failed", ok, failed), errors.Join(errs...)
}

// getConfig finds the plugin (configured, remembered, or probed under marketplace then
// plugins) and reads its deploy configuration. Only a JSON answer counts.
func (a *Adapter) getConfig(ctx context.Context) (*deployConfig, string, error) {
	q := url.Values{"action": {"getConfig"}, "machineid": {a.st.DeviceID}, "task[Deploy]": {deployVersion}}
	var cands []string
	switch {
	case a.opts.PluginURL != "":
		cands = []string{a.opts.PluginURL}
	case a.st.Deploy.PluginURL != "":
		cands = []string{a.st.Deploy.PluginURL}
	default:
		cands = pluginCandidates(a.deps.Server.URL)
	}
	var errs []error
	for _, c := range cands {
		var cfg deployConfig
		if err := a.getJSON(ctx, withQuery(c, q), &cfg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
			continue
		}
		return &cfg, c, nil
	}
	a.st.Deploy.PluginURL = ""
	return nil, "", fmt.Errorf("glpiinventory plugin not found (set plugin_url): %w", errors.Join(errs...))
}

var pluginPart = &lazyre.Regexp{Expr: `(?i)/(plugins|marketplace)/.*$|/front/inventory\.php.*$|/index\.php$`}

// pluginCandidates derives <glpi>/marketplace/glpiinventory/ and <glpi>/plugins/glpiinventory/.
func pluginCandidates(core string) []string {
	u, err := url.Parse(core)
	if err != nil {
		return nil
	}
	if strings.Contains(strings.ToLower(u.Path), "/glpiinventory") {
		p := u.Path
		i := strings.Index(strings.ToLower(p), "/glpiinventory")
		u.Path, u.RawQuery = p[:i]+"/glpiinventory/", ""
		return []string{u.String()}
	}
	base := strings.TrimRight(pluginPart.Get().ReplaceAllString(u.Path, ""), "/")
	u.RawQuery = ""
	var out []string
	for _, p := range []string{"/marketplace/glpiinventory/", "/plugins/glpiinventory/"} {
		u.Path = base + p
		out = append(out, u.String())
	}
	return out
}

func withQuery(base string, q url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + q.Encode()
}

// getJSON GETs a plugin URL and decodes its JSON body, whatever the Content-Type says.
func (a *Adapter) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent(a.deps.Identity.AgentVersion))
	resp, err := a.plain.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDecoded+1))
	if err != nil {
		return err
	}
	if len(body) > maxDecoded {
		return fmt.Errorf("answer over %d bytes", maxDecoded)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d %q", resp.StatusCode, snippet(bytes.TrimSpace(body)))
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return fmt.Errorf("answer is not JSON: %q", snippet(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// status sends one setStatus.
func (a *Adapter) status(ctx context.Context, remote string, kv ...string) {
	q := url.Values{"action": {"setStatus"}, "machineid": {a.st.DeviceID}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	var out map[string]any
	if err := a.getJSON(ctx, withQuery(remote, q), &out); err != nil {
		a.log.Warn("deploy setStatus failed", "err", err, "msg", q.Get("msg"))
	}
}

// errSkip ends a job as skipped (a check with return "skip" failed).
var errSkip = errors.New("skip")

// runJob runs one job: checks, files, actions, with the status sequence the plugin expects.
func (a *Adapter) runJob(ctx context.Context, remote string, job deployJob, files map[string]deployFile) (err error) {
	if job.UUID == "" {
		return errors.New("job without uuid")
	}
	st := func(kv ...string) { a.status(ctx, remote, append([]string{"part", "job", "uuid", job.UUID}, kv...)...) }
	st("currentStep", "checking", "msg", "starting")
	workdir, err := a.deps.Jobs.NewStaging("glpi-" + job.UUID)
	if err != nil {
		st("status", "ko", "currentStep", "checking", "msg", err.Error())
		return err
	}
	defer os.RemoveAll(workdir)
	fx, err := newFileOps(workdir, a.opts.DeployFileRoots)
	if err != nil {
		st("status", "ko", "currentStep", "checking", "msg", err.Error())
		return err
	}
	defer fx.Close()

	// Checks.
	if err := a.runChecks(ctx, job.Checks, "checking", st); err != nil {
		if errors.Is(err, errSkip) {
			st("status", "ok", "msg", msgJobSkipped)
			return nil
		}
		st("status", "ko", "currentStep", "checking", "msg", err.Error())
		return err
	}
	st("status", "ok", "currentStep", "checking", "msg", "all checks are ok")

	// Files.
	for _, key := range job.AssociatedFiles {
		f, ok := files[key]
		if !ok {
			err := fmt.Errorf("file %s.. is not described in associatedFiles", key[:min(12, len(key))])
			st("status", "ko", "currentStep", "downloading", "msg", err.Error())
			return err
		}
		fs := func(kv ...string) {
			a.status(ctx, remote, append([]string{"part", "file", "uuid", job.UUID, "sha512", key, "currentStep", "downloading"}, kv...)...)
		}
		fs("msg", "fetching "+f.Name)
		if err := a.fetchFile(ctx, workdir, key, f); err != nil {
			fs("status", "ko", "msg", err.Error())
			st("status", "ko", "currentStep", "downloading", "msg", err.Error())
			return err
		}
		fs("status", "ok", "msg", f.Name+" downloaded")
	}
	st("status", "ok", "currentStep", "prepare", "msg", "success")

	// Actions.
	for i, raw := range job.Actions {
		n := strconv.Itoa(i + 1)
		name, err := a.runAction(ctx, fx, workdir, raw, func(msg string) {
			st("currentStep", "processing", "actionnum", n, "msg", msg)
		})
		if errors.Is(err, errSkip) {
			st("status", "ok", "currentStep", "processing", "actionnum", n, "msg", name+" not successful then skip job")
			st("status", "ok", "msg", msgJobSkipped)
			return nil
		}
		if err != nil {
			st("status", "ko", "currentStep", "processing", "actionnum", n, "msg", name+", processing failure: "+err.Error())
			return fmt.Errorf("action %s (%s): %w", n, name, err)
		}
		st("status", "ok", "currentStep", "processing", "actionnum", n, "msg", name+", processing success")
	}
	st("status", "ok", "msg", msgJobOK)
	if v, _ := job.Requires["softwares-inventory"].(bool); v {
		a.st.NextContact = time.Time{} // the next cycle inventories (software included)
	}
	return nil
}

// fetchFile downloads a file's parts (sha512 of each compressed part, then of the whole),
// trying each mirror in turn, and moves it into the job folder; uncompress unpacks it there.
func (a *Adapter) fetchFile(ctx context.Context, workdir, key string, f deployFile) error {
	name := filepath.Base(strings.ReplaceAll(f.Name, `\`, "/"))
	if name == "" || name == "." || name == ".." || name == "/" {
		return fmt.Errorf("file name %q is not a plain file name", f.Name)
	}
	if len(f.Multiparts) == 0 || len(f.Mirrors) == 0 {
		return fmt.Errorf("file %s has no parts or no mirrors", name)
	}
	var errs []error
	for _, m := range f.Mirrors {
		parts := make([]jobs.Part, 0, len(f.Multiparts))
		for _, sha := range f.Multiparts {
			if len(sha) < 2 {
				return fmt.Errorf("file %s: part id %q is too short", name, sha)
			}
			u := m
			if !strings.HasSuffix(u, "/") {
				u += "/"
			}
			u += sha[:1] + "/" + sha[:2] + "/" + sha
			parts = append(parts, jobs.Part{Gunzip: true, Download: jobs.Download{
				Client: a.plain,
				Name:   "part-" + sha[:min(16, len(sha))],
				Want:   &jobs.Hash{Algo: "sha512", Hex: sha},
				NewRequest: func(ctx context.Context) (*http.Request, error) {
					return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				},
			}})
		}
		file, err := a.deps.Jobs.DownloadPartsWant(ctx, name, parts, &jobs.Hash{Algo: "sha512", Hex: key})
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		dst := filepath.Join(workdir, name)
		if err := os.Rename(file.Path, dst); err != nil {
			os.Remove(file.Path)
			return fmt.Errorf("file %s: %w", name, err)
		}
		if f.Uncompress == 1 {
			dir, err := a.deps.Jobs.Unpack(ctx, dst, jobs.Limits{})
			if err != nil {
				return fmt.Errorf("file %s: %w", name, err)
			}
			defer os.RemoveAll(dir)
			if err := moveContents(dir, workdir); err != nil {
				return fmt.Errorf("file %s: %w", name, err)
			}
			os.Remove(dst)
		}
		return nil
	}
	return fmt.Errorf("file %s: every mirror failed: %w", name, errors.Join(errs...))
}

// runAction runs one action; it returns the action's display name.
func (a *Adapter) runAction(ctx context.Context, fx *fileOps, workdir string, raw map[string]json.RawMessage, report func(string)) (string, error) {
	if len(raw) != 1 {
		return "action", fmt.Errorf("an action must have exactly one type, got %d", len(raw))
	}
	for typ, body := range raw {
		switch typ {
		case "cmd":
			var c cmdAction
			if err := json.Unmarshal(body, &c); err != nil {
				return typ, fmt.Errorf("cmd action: %w", err)
			}
			name := firstNonEmpty(c.Name, "cmd")
			if err := a.runChecks(ctx, c.Checks, "processing", nil); err != nil {
				return name, err
			}
			return name, a.runCmd(ctx, workdir, c, report)
		case "copy", "move", "mkdir", "delete":
			var f fileAction
			if err := json.Unmarshal(body, &f); err != nil {
				return typ, fmt.Errorf("%s action: %w", typ, err)
			}
			name := firstNonEmpty(f.Name, typ)
			if err := a.runChecks(ctx, f.Checks, "processing", nil); err != nil {
				return name, err
			}
			var err error
			switch typ {
			case "copy":
				err = fx.copy(f.From, f.To, false)
			case "move":
				err = fx.copy(f.From, f.To, true)
			case "mkdir":
				err = fx.mkdir(f.List)
			case "delete":
				err = fx.remove(f.List)
			}
			return name, err
		default:
			return typ, fmt.Errorf("unknown action `%s`", typ)
		}
	}
	return "action", nil
}

// runCmd runs a cmd action through the job runner and applies every retCheck.
func (a *Adapter) runCmd(ctx context.Context, workdir string, c cmdAction, report func(string)) error {
	if strings.TrimSpace(c.Exec) == "" {
		return errors.New("cmd action without exec")
	}
	var env []string
	for k, v := range c.Envs {
		env = append(env, k+"="+v)
	}
	res, err := a.deps.Jobs.Exec(ctx, jobs.Command{Line: c.Exec, Dir: workdir, Env: env, Timeout: a.opts.DeployCommandTimeout.D(), MaxOutput: 1 << 20})
	if err != nil {
		return err
	}
	if res.TimedOut {
		return fmt.Errorf("timed out after %s", res.Duration.Round(time.Second))
	}
	out := strings.TrimRight(string(res.Output), "\n")
	limit := 10
	if c.LogLineLimit != nil {
		if n, err := strconv.Atoi(string(*c.LogLineLimit)); err == nil {
			limit = n
		}
	}
	var failure error
	for _, rc := range c.RetChecks {
		if err := evalRetCheck(rc, res.ExitCode, out); err != nil {
			failure = err
			break
		}
	}
	lines := strings.Split(out, "\n")
	if out == "" {
		lines = nil
	}
	if limit >= 0 && len(lines) > limit {
		lines = lines[len(lines)-limit:]
	}
	if limit == 0 && failure != nil {
		lines = strings.Split(out, "\n")
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
	}
	for _, l := range lines {
		report(l)
	}
	report(fmt.Sprintf("exit status %d", res.ExitCode))
	return failure
}

func evalRetCheck(rc retCheck, code int, out string) error {
	in := func() bool {
		for _, v := range rc.Values {
			if n, err := strconv.Atoi(strings.TrimSpace(string(v))); err == nil && n == code {
				return true
			}
		}
		return false
	}
	match := func() (bool, error) {
		for _, v := range rc.Values {
			re, err := regexp.Compile(string(v))
			if err != nil {
				return false, fmt.Errorf("retCheck %s: bad pattern %q: %w", rc.Type, v, err)
			}
			if re.MatchString(out) {
				return true, nil
			}
		}
		return false, nil
	}
	switch rc.Type {
	case "okCode":
		if !in() {
			return fmt.Errorf("exit status %d is not an ok code", code)
		}
	case "errorCode":
		if in() {
			return fmt.Errorf("exit status %d is an error code", code)
		}
	case "okPattern":
		ok, err := match()
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("output does not match the ok pattern")
		}
	case "errorPattern":
		bad, err := match()
		if err != nil {
			return err
		}
		if bad {
			return errors.New("output matches the error pattern")
		}
	default:
		return fmt.Errorf("unknown retCheck type %q", rc.Type)
	}
	return nil
}
