// Package glpi speaks the agent side of GLPI 10+ (JSON protocol: CONTACT, INVENTORY, draft
// REGISTER), of FusionInventory-era servers (XML PROLOG and inventory), and of the
// glpiinventory plugin's deploy task.
package glpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// Protocol is the registry entry.
func Protocol() protocols.Protocol {
	return protocols.Protocol{
		Name:            "glpi",
		NewOptions:      func() any { return NewOptions() },
		DefaultInterval: time.Hour,
		New:             New,
		FormatInventory: FormatInventory,
	}
}

// Adapter is one GLPI server.
type Adapter struct {
	deps   protocols.Deps
	opts   *Options
	log    *slog.Logger
	client *http.Client
	plain  *http.Client // deploy REST: no GLPI headers, same TLS
	st     *persisted
	now    func() time.Time
	// clampLogged: a server delay under minServerDelay was already reported.
	clampLogged bool
	// run are this cycle's options: the command line's, merged with a run-now request.
	run protocols.Options
	// partial lists the categories of a requested partial inventory (GLPI's /now?partial=yes).
	partial []string
	// busy is set while a cycle runs (the listener's /status answer).
	busy atomic.Bool
	// listener is GLPI's "Request inventory" endpoint (nil when listen is not set).
	listener *listener
}

// retryDelay is the first delay after an invalid CONTACT answer (the reference agent's 60 s).
const retryDelay = time.Minute

// New builds the adapter; the identity (deviceid, agentid) is made and saved here.
func New(d protocols.Deps) (protocols.Adapter, error) {
	o, _ := d.Server.Options.(*Options)
	if o == nil {
		o = NewOptions()
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("glpi server %q: %w", d.Server.Name, err)
	}
	if d.Server.URL == "" {
		return nil, fmt.Errorf("glpi server %q: url is required", d.Server.Name)
	}
	if d.State == nil || d.Inventory == nil || d.HTTP == nil {
		return nil, fmt.Errorf("glpi server %q: state, inventory and HTTP are required", d.Server.Name)
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	c, err := d.HTTP(false)
	if err != nil {
		return nil, fmt.Errorf("glpi server %q: http client: %w", d.Server.Name, err)
	}
	host := firstNonEmpty(d.Identity.Hostname, "omniagent")
	st, changed, err := loadState(d.State, host, d.Identity.MachineUID, now())
	if err != nil {
		return nil, fmt.Errorf("glpi server %q: %w", d.Server.Name, err)
	}
	a := &Adapter{deps: d, opts: o, log: log, client: c, plain: c, st: st, now: now}
	if changed {
		log.Info("glpi identity", "deviceid", st.DeviceID, "agentid", st.AgentID)
		if err := a.save(); err != nil {
			return nil, err
		}
	}
	if o.Listen != "" {
		l, err := newListener(a, o)
		if err != nil {
			return nil, fmt.Errorf("glpi server %q: listener: %w", d.Server.Name, err)
		}
		a.listener = l
		return &Listening{a}, nil
	}
	return a, nil
}

// Listening is the adapter of a server with listen set: the daemon runs its listener as the
// adapter's session (never --oneshot).
type Listening struct{ *Adapter }

// Serve runs the listener until ctx ends.
func (l *Listening) Serve(ctx context.Context) error { return l.listener.serve(ctx) }

// DeviceID and AgentID expose the identity (status, tests).
func (a *Adapter) DeviceID() string { return a.st.DeviceID }

// AgentID is the GLPI-Agent-ID.
func (a *Adapter) AgentID() string { return a.st.AgentID }

func (a *Adapter) save() error {
	if err := a.deps.State.Save(a.st); err != nil {
		return fmt.Errorf("save glpi state: %w", err)
	}
	return nil
}

func (a *Adapter) defaultDelay() time.Duration {
	if a.deps.Server.Interval.D() > 0 {
		return a.deps.Server.Interval.D()
	}
	return a.opts.DefaultExpiration.Or(24 * time.Hour)
}

// Cycle runs what is due: REGISTER, PROLOG/CONTACT and INVENTORY at the server's expiration,
// and the deploy poll at the plugin's validity period.
func (a *Adapter) Cycle(ctx context.Context) (protocols.Result, error) {
	a.busy.Store(true)
	defer a.busy.Store(false)
	now := a.now()
	res := protocols.Result{Details: map[string]string{"deviceid": a.st.DeviceID}}
	var errs []error
	var summary []string
	a.run = a.deps.Options.Effective(ctx)
	req, asked := protocols.RequestFrom(ctx)
	a.partial = req.Categories
	contactDue := asked || a.run.ForceUpdate || a.run.Oneshot || a.st.NextContact.IsZero() || !now.Before(a.st.NextContact)
	if contactDue {
		s, err := a.contactCycle(ctx)
		if s != "" {
			summary = append(summary, s)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if a.opts.taskEnabled("deploy") && a.st.Deploy.Enabled && a.st.Mode == modeJSON &&
		(contactDue || a.st.Deploy.NextPoll.IsZero() || !now.Before(a.st.Deploy.NextPoll)) && ctx.Err() == nil {
		s, err := a.deployCycle(ctx)
		if s != "" {
			summary = append(summary, s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deploy: %w", err))
		}
	}
	if err := a.save(); err != nil {
		errs = append(errs, err)
	}
	if m := map[string]string{modeJSON: "GLPI (JSON)", modeXML: "FusionInventory (XML)"}[a.st.Mode]; m != "" {
		res.Details["mode"] = m
	}
	if !a.st.LastFull.IsZero() {
		res.Details["last_full_inventory"] = a.st.LastFull.Format(time.RFC3339)
	}
	if a.st.Spooled != nil {
		res.Details["queued_inventory"] = "since " + a.st.Spooled.Since.Format(time.RFC3339)
	}
	res.Next = a.nextDelay(a.now())
	res.Summary = strings.Join(summary, "; ")
	return res, errors.Join(errs...)
}

// nextDelay is the time to the earliest due task.
func (a *Adapter) nextDelay(now time.Time) time.Duration {
	next := a.st.NextContact
	if a.opts.taskEnabled("deploy") && a.st.Deploy.Enabled && !a.st.Deploy.NextPoll.IsZero() && (next.IsZero() || a.st.Deploy.NextPoll.Before(next)) {
		next = a.st.Deploy.NextPoll
	}
	if next.IsZero() {
		return 0
	}
	d := next.Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}

// contactCycle is REGISTER (when on), discovery, CONTACT and INVENTORY.
func (a *Adapter) contactCycle(ctx context.Context) (string, error) {
	now := a.now()
	if a.opts.Register && a.opts.Token != "" && !a.st.Register.Unsupported {
		if err := a.maybeRegister(ctx); err != nil {
			a.st.NextContact = a.st.Register.Until
			return "register failed", err
		}
	}
	if a.st.Mode != modeJSON {
		mode, sum, err := a.prolog(ctx)
		if err != nil || mode == modeXML {
			return sum, err
		}
	}
	ans, err := a.contact(ctx)
	if err != nil {
		return "contact failed", err
	}
	if ans.Status == "pending" {
		return "server pending", nil
	}
	if !a.opts.taskEnabled("inventory") && !a.run.ForceUpdate {
		return "contact ok", nil
	}
	disabled := ans.disabledList()
	if contains(disabled, "inventory") && !a.run.ForceUpdate {
		a.log.Info("inventory task disabled by the server")
		return "contact ok, inventory disabled by the server", nil
	}
	var skip []string
	if ti, ok := ans.task("inventory"); ok && ti.NoCategory != "" {
		skip = strings.Split(ti.NoCategory, ",")
	}
	if len(a.partial) > 0 {
		return a.sendPartial(ctx, a.partial, skip)
	}
	sum, err := a.sendInventory(ctx, skip, now)
	return sum, err
}

// contact sends CONTACT and applies the answer (expiration, tasks, disabled).
func (a *Adapter) contact(ctx context.Context) (*answer, error) {
	now := a.now()
	installed := []string{"deploy", "inventory"}
	var enabled []string
	for _, t := range installed {
		if a.opts.taskEnabled(t) {
			enabled = append(enabled, t)
		}
	}
	msg := map[string]any{
		"action": "contact", "deviceid": a.st.DeviceID, "name": "omniagent",
		"version": firstNonEmpty(a.deps.Identity.AgentVersion, "0.0.0"), "installed-tasks": installed,
		"enabled-tasks": enabled,
	}
	if a.opts.Tag != "" {
		msg["tag"] = a.opts.Tag
	}
	if a.listener != nil {
		if p := a.listener.port(); p > 0 {
			msg["httpd-port"] = p // stored by GLPI: where its buttons call the agent
		}
	}
	enc := a.encoding()
	ans, err := a.postJSON(ctx, msg, enc)
	var se *errServer
	if err != nil && enc == CompressBrotli && errors.As(err, &se) && (se.HTTP == 415 || se.HTTP == 500) {
		a.noBrotli()
		ans, err = a.postJSON(ctx, msg, a.encoding())
	}
	if err != nil {
		if errors.As(err, &se) {
			if d, perr := a.serverDelay(se.Expiration); perr == nil && d > 0 {
				a.st.NextContact = now.Add(d)
			} else {
				a.st.NextContact = time.Time{}
			}
		}
		return nil, fmt.Errorf("CONTACT: %w", err)
	}
	exp, perr := a.serverDelay(ans.Expiration)
	if ans.Status == "" || exp <= 0 {
		// The reference agent forgets the server kind and probes again soon.
		a.st.Mode = modeUnknown
		a.st.NextContact = now.Add(retryDelay)
		if perr == nil {
			perr = errors.New("no status or no expiration")
		}
		return nil, fmt.Errorf("CONTACT: invalid answer (%v); probing the server again in %s", perr, retryDelay)
	}
	a.st.MaxDelay = exp
	a.st.NextContact = now.Add(exp)
	if ans.Message != "" {
		a.log.Info("server message", "message", ans.Message)
	}
	if ans.Status == "pending" {
		return ans, nil
	}
	if ans.Status != "ok" {
		return nil, fmt.Errorf("CONTACT: unexpected status %q", ans.Status)
	}
	ti, ok := ans.task("deploy")
	wasEnabled := a.st.Deploy.Enabled
	a.st.Deploy.Enabled = ok && ti.Server == "glpiinventory" && !contains(ans.disabledList(), "deploy")
	a.st.Deploy.Version = ti.Version
	if a.st.Deploy.Enabled && !wasEnabled {
		a.st.Deploy.NextPoll = time.Time{}
	}
	return ans, nil
}

func (a *Adapter) encoding() string {
	if a.opts.Compression == CompressBrotli && a.st.NoBrotli {
		return CompressZlib
	}
	return a.opts.Compression
}

func (a *Adapter) noBrotli() {
	if a.opts.Compression == CompressBrotli && !a.st.NoBrotli {
		a.log.Warn("the server refused a brotli body; using zlib from now on")
		a.st.NoBrotli = true
	}
}

// sendInventory sends the queued inventory if any, else a new one. A failed send is queued on
// disk for the next attempt.
func (a *Adapter) sendInventory(ctx context.Context, skip []string, now time.Time) (string, error) {
	if sp := a.st.Spooled; sp != nil {
		payload, err := readSpool(sp.File)
		if err != nil {
			a.log.Warn("queued inventory unreadable; sending a new one", "err", err)
			a.st.Spooled = nil
		} else {
			if err := a.submit(ctx, payload); err != nil {
				if !keep(err) {
					// Refused for good (400): a fresh inventory goes next time.
					os.Remove(sp.File)
					a.st.Spooled = nil
					return "queued inventory rejected", fmt.Errorf("INVENTORY (queued): %w", err)
				}
				sp.Retries++
				return "queued inventory not accepted", a.retryLater(err)
			}
			a.commit(sp.Digests, sp.Full, now)
			os.Remove(sp.File)
			a.st.Spooled = nil
			return "queued inventory sent", nil
		}
	}
	p, err := a.prepare(ctx, skip, a.run.ForceUpdate)
	if err != nil {
		return "inventory not built", err
	}
	if err := a.submit(ctx, p.Payload); err != nil {
		if keep(err) {
			dir, derr := a.deps.State.SpoolDir()
			if derr == nil {
				var f string
				f, derr = writeSpool(dir, "inventory.json", p.Payload)
				if derr == nil {
					a.st.Spooled = &spooled{File: f, Digests: p.Digests, Full: p.Full, Since: now}
					a.log.Warn("inventory queued on disk for the next attempt", "err", err)
				}
			}
			if derr != nil {
				return "inventory not sent", errors.Join(err, derr)
			}
			return "inventory queued", a.retryLater(err)
		}
		return "inventory rejected", err
	}
	a.commit(p.Digests, p.Full, now)
	kind := "partial"
	if p.Full {
		kind = "full"
	}
	if len(p.Dropped) > 0 {
		return fmt.Sprintf("%s inventory sent (%d fields dropped)", kind, len(p.Dropped)), nil
	}
	return kind + " inventory sent", nil
}

// keep says whether a failed inventory should be queued.
func keep(err error) bool {
	var se *errServer
	if errors.As(err, &se) {
		return se.retriable()
	}
	return !errors.Is(err, context.Canceled)
}

// retryLater sets when the queued inventory goes again: at the server's expiration for "busy
// server", else at the next contact the scheduler's back-off allows.
func (a *Adapter) retryLater(err error) error {
	var se *errServer
	if errors.As(err, &se) && se.busy() {
		if d, perr := a.serverDelay(se.Expiration); perr == nil && d > 0 {
			a.st.NextContact = a.now().Add(d)
			return fmt.Errorf("INVENTORY: server busy, retrying in %s: %w", d, err)
		}
	}
	a.st.NextContact = time.Time{}
	return fmt.Errorf("INVENTORY: %w", err)
}

func (a *Adapter) commit(dg map[string]string, full bool, now time.Time) {
	a.st.Digests = dg
	if full {
		a.st.LastFull = now
		a.st.RunCount = 0
	}
	a.st.RunCount++
}

// submit posts one INVENTORY message, falling back from brotli once when refused.
func (a *Adapter) submit(ctx context.Context, payload []byte) error {
	enc := a.encoding()
	ans, err := a.postRaw(ctx, payload, enc)
	var se *errServer
	if err != nil && enc == CompressBrotli && errors.As(err, &se) && (se.HTTP == 415 || se.HTTP == 500) {
		a.noBrotli()
		ans, err = a.postRaw(ctx, payload, a.encoding())
	}
	if err != nil {
		return err
	}
	if ans.Response == "SEND" && ans.Status == "" {
		return errors.New("the server answered the XML-era {\"RESPONSE\":\"SEND\"}: it did not see GLPI-Agent-ID (a proxy removing headers?)")
	}
	if ans.Status != "ok" {
		return &errServer{HTTP: 200, Message: fmt.Sprintf("status %q: %s", ans.Status, ans.Message), Expiration: ans.Expiration}
	}
	return nil
}
