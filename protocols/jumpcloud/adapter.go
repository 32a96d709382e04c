// Package jumpcloud speaks JumpCloud's System Context API: with the key material of the
// JumpCloud agent already on the machine, it keeps the system record (display name,
// description, custom attributes from the inventory, tags), its system groups and its user
// bindings in line with agent.toml, and can delete its own record (deregister, uninstall,
// shutdown of auto-scaled instances).
package jumpcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/omniagent/omniagent/protocols"
)

// Name is the protocol name in agent.toml.
const Name = "jumpcloud"

// Protocol describes the adapter for the registry.
func Protocol() protocols.Protocol {
	return protocols.Protocol{
		Name:            Name,
		NewOptions:      func() any { return NewOptions() },
		DefaultInterval: time.Hour,
		New:             func(d protocols.Deps) (protocols.Adapter, error) { return New(d) },
	}
}

// Adapter is one JumpCloud server.
type Adapter struct {
	deps  protocols.Deps
	opts  *Options
	paths Paths
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time
}

var (
	_ protocols.ShutdownHook = (*Adapter)(nil)
	_ protocols.Uninstaller  = (*Adapter)(nil)
)

// New builds the adapter. Key material is read each cycle, not here: a machine without the
// JumpCloud agent fails this server's cycles with a clear error and the others go on.
func New(d protocols.Deps) (*Adapter, error) {
	o, _ := d.Server.Options.(*Options)
	if o == nil {
		o = NewOptions()
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if d.Server.URL != "" {
		u, err := url.Parse(d.Server.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("url %q: want https://host", d.Server.URL)
		}
	}
	c, err := d.HTTP(true) // the signed request line says HTTP/1.1
	if err != nil {
		return nil, err
	}
	// A redirect changes the signed target; never follow one.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := d.Now
	if now == nil {
		now = time.Now
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Adapter{deps: d, opts: o, paths: DefaultPaths(runtime.GOOS), http: c, log: log, now: now}, nil
}

// SetPaths replaces the default JumpCloud agent file locations (tests, unusual installs).
func (a *Adapter) SetPaths(p Paths) { a.paths = p }

// persisted is this server's state file. Everything per system is keyed by SystemKey: a
// re-enrolled machine starts over.
type persisted struct {
	SystemKey        string    `json:"system_key,omitempty"`
	AddedGroups      []string  `json:"added_groups,omitempty"`
	AddedUsers       []string  `json:"added_users,omitempty"`
	SummaryHash      string    `json:"summary_hash,omitempty"`
	InventoryChanged time.Time `json:"inventory_changed,omitzero"`
	LastPut          time.Time `json:"last_put,omitzero"`
	Unauthorized     int       `json:"unauthorized,omitempty"` // 401s in a row
	DeletedKey       string    `json:"deleted_key,omitempty"`
	DeletedAt        time.Time `json:"deleted_at,omitzero"`
}

func (a *Adapter) load() (persisted, error) {
	var p persisted
	_, err := a.deps.State.Load(&p)
	return p, err
}

// connect reads the key material and builds a client for this cycle.
func (a *Adapter) connect(p *persisted) (*client, error) {
	id, err := LoadIdentity(a.paths, a.opts.JCAgentConf, a.opts.JCAgentKey)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(a.deps.Server.URL, "/")
	if base == "" {
		if base, err = RegionURL(id.Host); err != nil {
			return nil, err
		}
	}
	if p.SystemKey != id.SystemKey {
		if p.SystemKey != "" {
			a.log.Warn("jumpcloud: systemKey changed: the machine was re-enrolled; forgetting the groups and users added for the old system", "old", p.SystemKey, "new", id.SystemKey)
		}
		*p = persisted{SystemKey: id.SystemKey, DeletedKey: p.DeletedKey, DeletedAt: p.DeletedAt}
	}
	return &client{http: a.http, base: base, id: id, now: a.now}, nil
}

// Cycle reads the record and brings record, groups and users in line with the config.
func (a *Adapter) Cycle(ctx context.Context) (protocols.Result, error) {
	p, err := a.load()
	if err != nil {
		return protocols.Result{}, err
	}
	c, err := a.connect(&p)
	if err != nil {
		return protocols.Result{}, err
	}
	details := map[string]string{"system_key": c.id.SystemKey, "api": c.base}
	if p.DeletedKey == c.id.SystemKey {
		details["deleted"] = p.DeletedAt.UTC().Format(time.RFC3339)
		a.log.Info("jumpcloud: this system's record was deleted by omniagent; nothing to do until the machine is enrolled again", "deleted_at", p.DeletedAt)
		return protocols.Result{Next: 24 * time.Hour, Summary: "record deleted at " + details["deleted"], Details: details}, nil
	}
	var rec system
	if err := c.do(ctx, http.MethodGet, "/api/systems/"+c.id.SystemKey, nil, nil, &rec); err != nil {
		return a.failed(&p, details, err)
	}
	p.Unauthorized = 0
	var errs []error
	var did []string
	put, err := a.desired(ctx, &p, &rec)
	if err != nil {
		errs = append(errs, err)
	}
	if len(put) > 0 {
		if err := c.do(ctx, http.MethodPut, "/api/systems/"+c.id.SystemKey, nil, put, nil); err != nil {
			errs = append(errs, err)
		} else {
			p.LastPut = a.now().UTC()
			did = append(did, "updated "+strings.Join(sortedKeys(put), ", "))
		}
	}
	groups, gdid, err := a.syncGroups(ctx, c, &p)
	did = append(did, gdid...)
	errs = append(errs, err)
	udid, err := a.syncUsers(ctx, c, &p)
	did = append(did, udid...)
	errs = append(errs, err)
	details["groups"] = strings.Join(groups, ", ")
	if bound, err := a.boundUsers(ctx, c); err != nil {
		errs = append(errs, err)
	} else {
		details["users"] = bound
	}
	if !p.LastPut.IsZero() {
		details["last_put"] = p.LastPut.Format(time.RFC3339)
	}
	if err := a.deps.State.Save(&p); err != nil {
		errs = append(errs, err)
	}
	summary := "record, groups and users up to date"
	if len(did) > 0 {
		summary = strings.Join(did, "; ")
	}
	if err := errors.Join(errs...); err != nil {
		return protocols.Result{Summary: summary, Details: details}, err
	}
	return protocols.Result{Summary: summary, Details: details}, nil
}

// failed records a failed first request; repeated 401s back off up to 6 h.
func (a *Adapter) failed(p *persisted, details map[string]string, err error) (protocols.Result, error) {
	res := protocols.Result{Details: details}
	var ae *AuthError
	if errors.As(err, &ae) {
		// The count comes from the state file: a negative or overflowing one would make the
		// shift below negative, which panics.
		p.Unauthorized = max(p.Unauthorized, 0)
		if p.Unauthorized < 1000 {
			p.Unauthorized++
		}
		res.Next = min(15*time.Minute<<min(max(p.Unauthorized-1, 0), 5), 6*time.Hour)
		a.log.Error(ae.Error(), "jumpcloud_agent_log", a.paths.Log)
	}
	if serr := a.deps.State.Save(p); serr != nil {
		err = errors.Join(err, serr)
	}
	return res, err
}

// desired computes the PUT body: only the config-owned fields whose value differs.
func (a *Adapter) desired(ctx context.Context, p *persisted, rec *system) (map[string]any, error) {
	put := map[string]any{}
	needInv := (a.opts.Attributes || a.opts.DisplayName != "" || a.opts.Description != "") && a.deps.Inventory != nil
	var err error
	if needInv {
		var inv, ierr = a.deps.Inventory.Inventory(ctx)
		if ierr != nil {
			return put, fmt.Errorf("jumpcloud: inventory for the record: %w", ierr)
		}
		sum := summarize(inv, a.deps.Identity)
		if h := sum.hash(); h != p.SummaryHash || p.InventoryChanged.IsZero() {
			p.SummaryHash, p.InventoryChanged = h, a.now().UTC()
		}
		data := TemplateData{Hostname: a.deps.Identity.Hostname, FQDN: a.deps.Identity.FQDN, Serial: sum.Serial,
			Model: sum.Model, Manufacturer: inv.System.Manufacturer, OS: sum.OS, Summary: sum.line()}
		if data.Hostname == "" {
			data.Hostname = inv.System.Hostname
		}
		for _, f := range []struct{ tmpl, have, key string }{
			{a.opts.DisplayName, rec.DisplayName, "displayName"}, {a.opts.Description, rec.Description, "description"},
		} {
			if f.tmpl == "" {
				continue
			}
			v, terr := render(f.tmpl, data)
			if terr != nil {
				err = errors.Join(err, fmt.Errorf("jumpcloud: %s template: %w", f.key, terr))
				continue
			}
			if v != f.have {
				put[f.key] = v
			}
		}
		if a.opts.Attributes {
			merged, changed := mergeAttributes(rec.Attributes, sum.owned(p.InventoryChanged.Format(time.RFC3339)))
			if changed {
				put["attributes"] = merged
			}
		}
	}
	if len(a.opts.Tags) > 0 && !sameSet(a.opts.Tags, rec.Tags) {
		put["tags"] = a.opts.Tags
	}
	return put, err
}

func render(tmpl string, data TemplateData) (string, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(t.execute(data)), nil
}

type graphObject struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// CompiledAttributes holds sudo for users; Paths shows a binding through a user group.
	CompiledAttributes struct {
		Sudo *sudo `json:"sudo"`
	} `json:"compiledAttributes"`
	Paths [][]struct {
		To struct {
			Type string `json:"type"`
		} `json:"to"`
	} `json:"paths"`
}

type sudo struct {
	Enabled         bool `json:"enabled"`
	WithoutPassword bool `json:"withoutPassword"`
}

type graphConnection struct {
	Attributes struct {
		Sudo *sudo `json:"sudo"`
	} `json:"attributes"`
	To struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"to"`
}

type memberOp struct {
	Op   string `json:"op"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// syncGroups joins the configured groups and leaves only those we added that the config
// dropped. It returns the groups the system is in afterwards.
func (a *Adapter) syncGroups(ctx context.Context, c *client, p *persisted) ([]string, []string, error) {
	objs, err := pages[graphObject](ctx, c, "/api/v2/systems/"+c.id.SystemKey+"/memberof", nil)
	if err != nil {
		return nil, nil, err
	}
	in := map[string]bool{}
	for _, o := range objs {
		if o.Type == "system_group" {
			in[o.ID] = true
		}
	}
	var errs []error
	var did []string
	for _, g := range a.opts.SystemGroups {
		if in[g] {
			continue
		}
		if err := c.do(ctx, http.MethodPost, "/api/v2/systemgroups/"+g+"/members", nil, memberOp{"add", "system", c.id.SystemKey}, nil); err != nil {
			errs = append(errs, fmt.Errorf("join group %s: %w", g, err))
			continue
		}
		in[g] = true
		did = append(did, "joined group "+g)
		if !slices.Contains(p.AddedGroups, g) {
			p.AddedGroups = append(p.AddedGroups, g)
		}
	}
	keep := p.AddedGroups[:0]
	for _, g := range p.AddedGroups {
		switch {
		case slices.Contains(a.opts.SystemGroups, g):
			keep = append(keep, g)
		case !in[g]: // someone else removed it already
		default:
			if err := c.do(ctx, http.MethodPost, "/api/v2/systemgroups/"+g+"/members", nil, memberOp{"remove", "system", c.id.SystemKey}, nil); err != nil {
				errs = append(errs, fmt.Errorf("leave group %s: %w", g, err))
				keep = append(keep, g)
				continue
			}
			delete(in, g)
			did = append(did, "left group "+g)
		}
	}
	p.AddedGroups = keep
	return sortedKeys(in), did, errors.Join(errs...)
}

type userOp struct {
	Op         string `json:"op"`
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes *struct {
		Sudo sudo `json:"sudo"`
	} `json:"attributes,omitempty"`
}

func newUserOp(op string, u User) userOp {
	o := userOp{Op: op, Type: "user", ID: u.ID}
	if op != "remove" {
		o.Attributes = &struct {
			Sudo sudo `json:"sudo"`
		}{sudo{u.Sudo, u.SudoWithoutPassword}}
	}
	return o
}

// syncUsers binds the configured users with their sudo flags; it unbinds only users we bound.
func (a *Adapter) syncUsers(ctx context.Context, c *client, p *persisted) ([]string, error) {
	q := url.Values{"targets": {"user"}}
	conns, err := pages[graphConnection](ctx, c, "/api/v2/systems/"+c.id.SystemKey+"/associations", q)
	if err != nil {
		return nil, err
	}
	bound := map[string]sudo{}
	for _, g := range conns {
		if g.To.Type == "user" {
			var s sudo
			if g.Attributes.Sudo != nil {
				s = *g.Attributes.Sudo
			}
			bound[g.To.ID] = s
		}
	}
	path := "/api/v2/systems/" + c.id.SystemKey + "/associations"
	var errs []error
	var did []string
	wanted := map[string]bool{}
	for _, u := range a.opts.Users {
		wanted[u.ID] = true
		have, ok := bound[u.ID]
		want := sudo{u.Sudo, u.SudoWithoutPassword}
		switch {
		case !ok:
			if err := c.do(ctx, http.MethodPost, path, nil, newUserOp("add", u), nil); err != nil {
				errs = append(errs, fmt.Errorf("bind user %s: %w", u.ID, err))
				continue
			}
			did = append(did, "bound user "+u.ID)
			if !slices.Contains(p.AddedUsers, u.ID) {
				p.AddedUsers = append(p.AddedUsers, u.ID)
			}
		case have != want:
			if err := c.do(ctx, http.MethodPost, path, nil, newUserOp("update", u), nil); err != nil {
				errs = append(errs, fmt.Errorf("update sudo of user %s: %w", u.ID, err))
				continue
			}
			did = append(did, "updated sudo of user "+u.ID)
		}
	}
	keep := p.AddedUsers[:0]
	for _, id := range p.AddedUsers {
		if _, ok := bound[id]; wanted[id] || !ok {
			if wanted[id] {
				keep = append(keep, id)
			}
			continue
		}
		if err := c.do(ctx, http.MethodPost, path, nil, newUserOp("remove", User{ID: id}), nil); err != nil {
			errs = append(errs, fmt.Errorf("unbind user %s: %w", id, err))
			keep = append(keep, id)
			continue
		}
		did = append(did, "unbound user "+id)
	}
	p.AddedUsers = keep
	return did, errors.Join(errs...)
}

// boundUsers lists the users bound directly or through a group, for `omniagent status`.
func (a *Adapter) boundUsers(ctx context.Context, c *client) (string, error) {
	objs, err := pages[graphObject](ctx, c, "/api/v2/systems/"+c.id.SystemKey+"/users", nil)
	if err != nil {
		return "", err
	}
	var out []string
	for _, o := range objs {
		s := o.ID
		var flags []string
		if o.CompiledAttributes.Sudo != nil && o.CompiledAttributes.Sudo.Enabled {
			flags = append(flags, "sudo")
			if o.CompiledAttributes.Sudo.WithoutPassword {
				flags = append(flags, "nopasswd")
			}
		}
		via := "direct"
		for _, path := range o.Paths {
			if len(path) > 1 || (len(path) == 1 && path[0].To.Type == "user_group") {
				via = "via group"
			}
		}
		flags = append(flags, via)
		out = append(out, s+" ("+strings.Join(flags, ", ")+")")
	}
	return strings.Join(out, ", "), nil
}

// Deregister deletes this system's own record (which also uninstalls the JumpCloud agent from
// the machine) and marks this server done for that systemKey.
func (a *Adapter) Deregister(ctx context.Context) error {
	p, err := a.load()
	if err != nil {
		return err
	}
	c, err := a.connect(&p)
	if err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodDelete, "/api/systems/"+c.id.SystemKey, nil, nil, nil); err != nil {
		return err
	}
	p = persisted{DeletedKey: c.id.SystemKey, DeletedAt: a.now().UTC(), SystemKey: c.id.SystemKey}
	a.log.Info("jumpcloud: deleted this system's record", "system_key", c.id.SystemKey)
	return a.deps.State.Save(&p)
}

// SystemKey reads the current systemKey (for the deregister prompt).
func (a *Adapter) SystemKey() (string, error) {
	id, err := LoadIdentity(a.paths, a.opts.JCAgentConf, a.opts.JCAgentKey)
	if err != nil {
		return "", err
	}
	return id.SystemKey, nil
}

// OnUninstall deletes the record when delete_on_uninstall is set.
func (a *Adapter) OnUninstall(ctx context.Context) error {
	if !a.opts.DeleteOnUninstall {
		return nil
	}
	return a.Deregister(ctx)
}

// OnSystemShutdown runs on_shutdown, bounded by shutdown_timeout.
func (a *Adapter) OnSystemShutdown(ctx context.Context) error {
	if a.opts.OnShutdown == ShutdownNone || a.opts.OnShutdown == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.ShutdownTimeout.D())
	defer cancel()
	a.log.Info("jumpcloud: system shutdown: running on_shutdown", "on_shutdown", a.opts.OnShutdown, "timeout", a.opts.ShutdownTimeout.D())
	if a.opts.OnShutdown == ShutdownDelete {
		return a.Deregister(ctx)
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	c, err := a.connect(&p)
	if err != nil {
		return err
	}
	objs, err := pages[graphObject](ctx, c, "/api/v2/systems/"+c.id.SystemKey+"/memberof", nil)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, o := range objs {
		in[o.ID] = o.Type == "system_group"
	}
	var errs []error
	for _, g := range a.opts.SystemGroups {
		if !in[g] {
			continue
		}
		if err := c.do(ctx, http.MethodPost, "/api/v2/systemgroups/"+g+"/members", nil, memberOp{"remove", "system", c.id.SystemKey}, nil); err != nil {
			errs = append(errs, fmt.Errorf("leave group %s: %w", g, err))
			continue
		}
		p.AddedGroups = slices.DeleteFunc(p.AddedGroups, func(s string) bool { return s == g })
	}
	if err := a.deps.State.Save(&p); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
