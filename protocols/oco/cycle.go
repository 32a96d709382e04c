package oco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omniagent/omniagent/eventlog"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
)

type helloData struct {
	AgentVersion  string     `json:"agent_version"`
	Networks      []NetEntry `json:"networks"`
	Services      []service  `json:"services"`
	Uptime        int64      `json:"uptime"`
	BatteryLevel  any        `json:"battery_level"`
	BatteryStatus any        `json:"battery_status"`
	ForceUpdate   bool       `json:"force_update"`
}

// Cycle runs one exchange: hello, keys, inventory if asked, jobs, events.
func (a *Adapter) Cycle(ctx context.Context) (res protocols.Result, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(); err != nil {
		return res, err
	}
	if err := a.resolveURL(ctx); err != nil {
		return res, err
	}
	if err := checkURL(a.st.APIURL, a.opts.AllowPlainHTTP); err != nil {
		return res, err
	}
	a.logMode()
	defer func() { res.Details = a.details() }()

	// Hello carries a few facts, read alone: the full inventory is read only once the server
	// has answered, so a server out of reach never costs a full collection.
	hd := a.helloData(ctx, a.helloFacts(ctx))
	forceUpdate := a.d.Options.Effective(ctx).ForceUpdate
	force := forceUpdate || a.invChanged
	var params map[string]json.RawMessage
	params, err = a.hello(ctx, hd, force)
	if err != nil && a.opts.OCOProtocol == ModeAuto && !a.st.SignedSeen && a.mode() == ModeHMAC {
		if reason := legacyReason(err); reason != "" {
			a.setMode(ModeLegacy, reason)
			params, err = a.hello(ctx, hd, force)
		}
	}
	if err != nil {
		return res, err
	}
	var summary []string
	summary = append(summary, "hello ok ("+a.mode()+")")
	var errs []error

	n, _ := looseInt(params["update"])
	if n != 1 && !force && a.inventoryDue() {
		// The server did not ask: compare the machine with the inventory last sent, and when
		// it changed ask for an update (the server takes one only after update: 1).
		if a.refreshInventory(ctx, false) != nil && a.invChanged {
			if p, err := a.hello(ctx, hd, true); err != nil {
				errs = append(errs, fmt.Errorf("hello asking for an update after a change: %w", err))
			} else {
				params, force = p, true
				n, _ = looseInt(params["update"])
			}
		}
	}

	interrupted := a.reportInterrupted(ctx)

	if n == 1 || forceUpdate || force && a.invChanged {
		if inv := a.refreshInventory(ctx, n == 1); inv == nil {
			errs = append(errs, errors.New("inventory requested but none could be collected"))
		} else if err := a.sendUpdate(ctx, inv, params["logins-since"]); err != nil {
			errs = append(errs, err)
		} else {
			summary = append(summary, "inventory sent")
		}
	}

	list, err := parseJobs(params["software-jobs"])
	if err != nil {
		errs = append(errs, err)
	}
	if len(list) > 0 {
		ok, failed, skipped, err := a.runJobs(ctx, list, interrupted)
		if err != nil {
			errs = append(errs, err)
		}
		res.JobsFailed = failed
		s := fmt.Sprintf("jobs: %d succeeded, %d failed", ok, failed)
		if skipped > 0 {
			s += fmt.Sprintf(", %d skipped", skipped)
		}
		summary = append(summary, s)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	if a.opts.Events {
		n, err := a.events(ctx, params["events"])
		if err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			summary = append(summary, fmt.Sprintf("%d events sent", n))
		}
	}
	if s, err := a.rotatePasswords(ctx, params["update-passwords"]); err != nil {
		errs = append(errs, err)
	} else if s != "" {
		summary = append(summary, s)
	}
	res.Summary = strings.Join(summary, "; ")
	return res, errors.Join(errs...)
}

func legacyReason(err error) string {
	var se *ServerError
	switch {
	case errors.Is(err, errLegacyAnswer):
		return "auto: the server answered without signature or timestamp (OCO ≤ 1.1.6)"
	case errors.As(err, &se) && se.legacySignal():
		return fmt.Sprintf("auto: the server refused the signed hello with HTTP %d %q, as OCO ≤ 1.1.6 does", se.Status, se.Body)
	}
	return ""
}

func (a *Adapter) details() map[string]string {
	d := map[string]string{
		"protocol":   a.mode(),
		"url":        a.st.APIURL,
		"server_key": "not pinned yet",
		"agent_key":  "registration key (none issued yet)",
	}
	if a.st.ServerKey != "" {
		d["server_key"] = "pinned"
	}
	if a.st.AgentKey != "" {
		d["agent_key"] = "issued by the server"
	}
	if a.st.LastError != "" {
		d["last_server_error"] = a.st.LastError
	}
	if a.st.ModeReason != "" {
		d["protocol_reason"] = a.st.ModeReason
	}
	if !a.st.InventorySent.IsZero() {
		d["inventory_sent"] = a.st.InventorySent.UTC().Format(time.RFC3339)
	}
	return d
}

// helloFacts reads the categories hello carries (addresses, uptime, battery) alone, or takes
// them from a fresh full inventory; the last full inventory when they cannot be read.
func (a *Adapter) helloFacts(ctx context.Context) *inventory.Inventory {
	inv, err := inventory.Partial(ctx, a.d.Inventory, inventory.CategorySystem, inventory.CategoryNetwork, inventory.CategoryBatteries)
	if err != nil {
		a.log.Warn("network facts unavailable; hello goes without them", "err", err)
		return a.lastInv
	}
	return inv
}

// inventoryDue says whether the full inventory should be re-read to notice changes: never read
// yet, or older than inventory_check (0 = only when the server asks).
func (a *Adapter) inventoryDue() bool {
	every := a.opts.InventoryCheck.D()
	return a.lastInv == nil || every > 0 && a.now().Sub(a.lastInvAt) >= every
}

// refreshInventory re-reads the full inventory when it is due (always when asked and
// inventory_check is 0, or on --force-update), and notes (until an update goes through) when
// it differs from the one last sent. It returns the last inventory read, nil if none.
func (a *Adapter) refreshInventory(ctx context.Context, serverAsked bool) *inventory.Inventory {
	reread := a.inventoryDue() || a.d.Options.Effective(ctx).ForceUpdate || serverAsked && a.opts.InventoryCheck.D() == 0
	if !reread {
		return a.lastInv
	}
	inv, err := a.d.Inventory.Inventory(ctx)
	if err != nil {
		a.log.Warn("inventory collection failed", "err", err)
		return a.lastInv
	}
	a.lastInv, a.lastInvAt = inv, a.now()
	digest := inventoryDigest(MapInventory(inv, a.opts, time.Time{}))
	if a.st.InventoryHash != "" && digest != a.st.InventoryHash {
		a.invChanged = true
	}
	return inv
}

// helloData is what every hello of a cycle carries: the facts, and the service checks' results
// (run once a cycle, however many hellos it takes).
func (a *Adapter) helloData(ctx context.Context, facts *inventory.Inventory) *helloData {
	d := &helloData{AgentVersion: a.opts.AgentVersion, Networks: []NetEntry{}, Services: a.services(ctx), BatteryLevel: false, BatteryStatus: false}
	if facts != nil {
		d.Networks = MapNetworks(facts.Networks)
		// The uptime as of now, not as of the collection (a cached one may be minutes old).
		up := facts.System.Uptime
		if t := facts.Meta.CollectedAt; !t.IsZero() && a.now().After(t) {
			up += a.now().Sub(t).Seconds()
		}
		d.Uptime = int64(up)
		d.BatteryLevel, d.BatteryStatus = battery(facts)
	}
	return d
}

func (a *Adapter) hello(ctx context.Context, d *helloData, force bool) (map[string]json.RawMessage, error) {
	d.ForceUpdate = force
	return a.call(ctx, MethodHello, d)
}

// parseServerTime reads "Y-m-d H:i:s" tolerantly; zero when unreadable.
func parseServerTime(raw json.RawMessage) time.Time {
	s, _ := looseString(raw)
	s = strings.TrimSpace(s)
	for _, layout := range []string{TimeLayout, "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func (a *Adapter) sendUpdate(ctx context.Context, inv *inventory.Inventory, loginsSince json.RawMessage) error {
	since := parseServerTime(loginsSince)
	data := MapInventory(inv, a.opts, since)
	data.Hostname = a.hostname
	if _, err := a.call(ctx, MethodUpdate, data); err != nil {
		return err
	}
	a.st.InventoryHash = inventoryDigest(data)
	a.st.InventorySent = a.now().UTC()
	a.invChanged = false
	a.log.Info("inventory sent", "software", len(data.Software), "networks", len(data.Networks), "logins", len(data.Logins))
	return a.save()
}

// reportInterrupted reports a job that was running when the agent stopped as failed. It
// returns the ids handled, so the same job offered again in this cycle is not re-run.
func (a *Adapter) reportInterrupted(ctx context.Context) map[string]bool {
	done := map[string]bool{}
	f := a.st.InFlight
	if f == nil {
		return done
	}
	id, _ := looseString(f.ID)
	msg := fmt.Sprintf("interrupted: the agent stopped or restarted while this job was running (started %s UTC); it was not completed and is not run again automatically", f.Started.UTC().Format(TimeLayout))
	a.log.Warn("reporting a job interrupted by an agent restart as failed", "job", id)
	_, err := a.report(ctx, f.ID, StateFailed, pi(RCAgentError), msg, nil)
	var se *ServerError
	switch {
	case err == nil, jobNotFound(err), errors.As(err, &se) && se.Status == 400:
		if err != nil {
			a.log.Warn("the server did not take the interrupted job's report", "job", id, "err", err)
		}
		a.st.InFlight = nil
		_ = a.save()
		done[id] = true
	default:
		a.log.Warn("could not report the interrupted job; will retry", "job", id, "err", err)
		done[id] = true // never re-run it while its failure is unreported
	}
	return done
}

// eventReader reads one query; tests may replace it.
type eventReader func(ctx context.Context, q eventlog.Query) ([]eventlog.Event, error)

type eventEntry struct {
	Log       string            `json:"log"`
	Provider  string            `json:"provider"`
	EventID   any               `json:"event_id"`
	Level     any               `json:"level"`
	Timestamp string            `json:"timestamp"`
	Data      map[string]string `json:"data"`
}

// events runs the server's event rules and sends what they found in one request.
func (a *Adapter) events(ctx context.Context, raw json.RawMessage) (int, error) {
	var rules []map[string]json.RawMessage
	if rawIsNull(raw) || json.Unmarshal(raw, &rules) != nil || len(rules) == 0 {
		return 0, nil
	}
	read := a.readEvents
	if read == nil {
		read = eventlog.Read
	}
	var out []eventEntry
	for _, r := range rules {
		logName, _ := looseString(r["log"])
		query, _ := looseString(r["query"])
		q := eventlog.Query{Log: logName, Query: query, Since: parseServerTime(r["since"])}
		evs, err := read(ctx, q)
		if err != nil {
			a.log.Warn("event query skipped", "log", logName, "err", err)
			continue
		}
		for _, e := range evs {
			ent := eventEntry{Log: e.Log, Provider: e.Provider, EventID: "", Level: "", Timestamp: e.Timestamp.UTC().Format(TimeLayout), Data: e.Data}
			if ent.Log == "" {
				ent.Log = logName
			}
			if e.EventID != nil {
				ent.EventID = *e.EventID
			}
			if e.Level != nil {
				ent.Level = *e.Level
			}
			if ent.Data == nil {
				ent.Data = map[string]string{}
			}
			out = append(out, ent)
		}
	}
	if len(out) == 0 {
		return 0, nil
	}
	if _, err := a.call(ctx, MethodEvents, map[string]any{"events": out}); err != nil {
		return 0, err
	}
	return len(out), nil
}
