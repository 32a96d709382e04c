package mig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/mig/action"
)

// envRefresh is how often addresses and the public IP are re-read (MIG: 5 minutes).
const envRefresh = 5 * time.Minute

// httpHeartbeat is the body of POST {api}/heartbeat (camelCase schema, §3.4).
type httpHeartbeat struct {
	Name        string    `json:"name"`
	Mode        string    `json:"mode"`
	Version     string    `json:"version"`
	PID         int       `json:"pid"`
	QueueLoc    string    `json:"queueLoc"`
	StartTime   time.Time `json:"startTime"`
	RefreshTime time.Time `json:"refreshTime"`
	Environment httpEnv   `json:"environment"`
	Tags        []httpTag `json:"tags"`
}

type httpEnv struct {
	Init      string   `json:"init"`
	Ident     string   `json:"ident"`
	OS        string   `json:"os"`
	Arch      string   `json:"arch"`
	IsProxied bool     `json:"isProxied"`
	Proxy     string   `json:"proxy"`
	Addresses []string `json:"addresses"`
	PublicIP  string   `json:"publicIP"`
	Modules   []string `json:"modules"`
}

type httpTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// environment is what the heartbeat says about the machine; refreshed every envRefresh.
type environment struct {
	init, ident string
	addresses   []string
	publicIP    string
	refreshed   time.Time // refreshTime / refreshts
	publicAt    time.Time // last successful /ip
}

// refreshEnv re-reads the inventory and (whenever the API url is set, whatever the transport)
// the public IP when due. A failing /ip keeps the last good value; with none yet the HTTP
// heartbeat cannot be sent, while an AMQP one goes without publicip (optional there).
func (a *Adapter) refreshEnv(ctx context.Context) error {
	now := a.now()
	a.envMu.Lock()
	due := a.env.refreshed.IsZero() || now.Sub(a.env.refreshed) >= envRefresh
	ipDue := a.api != nil && a.client != nil && (a.env.publicIP == "" || now.Sub(a.env.publicAt) >= envRefresh)
	a.envMu.Unlock()
	if due {
		init, ident, addrs := a.readMachine(ctx)
		a.envMu.Lock()
		a.env.init, a.env.ident, a.env.addresses, a.env.refreshed = init, ident, addrs, now
		a.envMu.Unlock()
	}
	if !ipDue {
		return nil
	}
	ip, err := a.publicIP(ctx)
	a.envMu.Lock()
	defer a.envMu.Unlock()
	if err != nil {
		if a.env.publicIP != "" {
			a.log.Warn("mig: cannot refresh the public IP; keeping the last one", "err", err, "ip", a.env.publicIP)
			return nil
		}
		if a.opts.HeartbeatTransport != HeartbeatHTTP {
			a.log.Warn("mig: cannot learn the public IP; heartbeat sent without publicip", "err", err)
			return nil
		}
		return err
	}
	if ip != a.env.publicIP && a.env.publicIP != "" {
		a.env.refreshed = now // a changed environment: the server replaces the row on newer refresh
	}
	a.env.publicIP, a.env.publicAt = ip, now
	return nil
}

// readMachine builds init, ident and addresses from the inventory (tolerating its absence).
func (a *Adapter) readMachine(ctx context.Context) (init, ident string, addrs []string) {
	var inv *inventory.Inventory
	if a.d.Inventory != nil {
		var err error
		if inv, err = inventory.Partial(ctx, a.d.Inventory, inventory.CategoryOS, inventory.CategoryNetwork); err != nil {
			a.log.Warn("mig: inventory unavailable for the heartbeat environment", "err", err)
			inv = nil
		}
	}
	init = detectInit(a.goos, func(p string) bool { _, err := os.Stat(p); return err == nil })
	ident = a.goos
	addrs = []string{}
	if inv == nil {
		return init, ident, addrs
	}
	ident = osIdent(inv.OS, a.goos)
	for _, n := range inv.Networks {
		if n.Type == "loopback" {
			continue
		}
		for _, list := range [][]inventory.IPAddr{n.IPv4, n.IPv6} {
			for _, ip := range list {
				p := net.ParseIP(ip.Address)
				if p == nil || p.IsLoopback() {
					continue
				}
				addrs = append(addrs, ip.Address+"/"+strconv.Itoa(ip.Prefix))
			}
		}
	}
	return init, ident, addrs
}

// osIdent is "<Distribution> <version> <codename>" when the OS id is known ("Debian 12
// bookworm", MIG's form), else the full name.
func osIdent(o inventory.OS, goos string) string {
	if o.ID != "" && o.Version != "" {
		r := []rune(o.ID)
		r[0] = unicode.ToUpper(r[0])
		s := string(r) + " " + o.Version
		if o.Codename != "" {
			s += " " + o.Codename
		}
		return s
	}
	for _, s := range []string{o.FullName, strings.TrimSpace(o.Name + " " + o.Version)} {
		if s != "" {
			return s
		}
	}
	return goos
}

// detectInit names the init system the way MIG does.
func detectInit(goos string, exists func(string) bool) string {
	switch goos {
	case "windows":
		return "windows"
	case "darwin":
		return "launchd"
	case "linux":
		switch {
		case exists("/run/systemd/system"):
			return "systemd"
		case exists("/sbin/initctl") && exists("/etc/init"):
			return "upstart"
		default:
			return "sysvinit"
		}
	}
	return goos
}

// publicIP asks the API for our address (bare text although labelled JSON).
func (a *Adapter) publicIP(ctx context.Context) (string, error) {
	if a.api == nil {
		return "", errors.New("mig: url (the MIG API) is not set: HTTP heartbeats need it")
	}
	u := a.api.JoinPath("ip").String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("mig %s: public IP request: %w", a.d.Server.Name, err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("mig %s: GET %s: %w", a.d.Server.Name, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", fmt.Errorf("mig %s: GET %s: read: %w", a.d.Server.Name, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("mig %s: GET %s: HTTP %d: %s", a.d.Server.Name, u, resp.StatusCode, snippet(body))
	}
	s := strings.Trim(strings.TrimSpace(string(body)), `"`)
	ip := net.ParseIP(s)
	if ip == nil {
		return "", fmt.Errorf("mig %s: GET %s: answer %q is not an IP address", a.d.Server.Name, u, snippet(body))
	}
	return ip.String(), nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// mode is "checkin" for check-in agents and --oneshot runs (both drain and leave), else
// "daemon".
func (a *Adapter) mode() string {
	if a.opts.Checkin || a.d.Options.Oneshot {
		return "checkin"
	}
	return "daemon"
}

// proxyHost is the relay proxy as MIG reports it (host:port, no credentials), "" when direct.
func (a *Adapter) proxyHost() string {
	if a.proxy == nil {
		return ""
	}
	return a.proxy.Host
}

// buildHTTPHeartbeat assembles the camelCase heartbeat; startTime is now on every beat (the
// server refuses ones older than 5 minutes).
func (a *Adapter) buildHTTPHeartbeat() httpHeartbeat {
	a.envMu.Lock()
	env := a.env
	a.envMu.Unlock()
	tags := make([]httpTag, 0, len(a.opts.Tags))
	for _, k := range sortedKeys(a.opts.Tags) {
		tags = append(tags, httpTag{Name: k, Value: a.opts.Tags[k]})
	}
	return httpHeartbeat{
		Name: a.name, Mode: a.mode(), Version: a.version, PID: a.pid, QueueLoc: a.queueLoc,
		StartTime: a.now().UTC(), RefreshTime: env.refreshed.UTC(),
		Environment: httpEnv{
			Init: env.init, Ident: env.ident, OS: a.goos, Arch: a.goarch, IsProxied: a.proxy != nil, Proxy: a.proxyHost(),
			Addresses: nonNil(env.addresses), PublicIP: env.publicIP, Modules: nonNil(a.modules.Names()),
		},
		Tags: tags,
	}
}

// buildLegacyHeartbeat assembles the lower-case heartbeat published on mig.agt.heartbeats.
func (a *Adapter) buildLegacyHeartbeat() action.Agent {
	a.envMu.Lock()
	env := a.env
	a.envMu.Unlock()
	tags := map[string]string{}
	for k, v := range a.opts.Tags {
		tags[k] = v
	}
	return action.Agent{
		Name: a.name, QueueLoc: a.queueLoc, Mode: a.mode(), Version: a.version, PID: a.pid,
		StartTime: a.started.UTC(), HeartBeatTS: a.now().UTC(), RefreshTS: env.refreshed.UTC(),
		Env: action.AgentEnv{
			Init: env.init, Ident: env.ident, OS: a.goos, Arch: a.goarch, IsProxied: a.proxy != nil, Proxy: a.proxyHost(),
			Addresses: env.addresses, PublicIP: env.publicIP, Modules: a.modules.Names(),
		},
		Tags: tags,
	}
}

// postHeartbeat sends the HTTP heartbeat.
func (a *Adapter) postHeartbeat(ctx context.Context) error {
	body, err := json.Marshal(a.buildHTTPHeartbeat())
	if err != nil {
		return fmt.Errorf("mig %s: encode heartbeat: %w", a.d.Server.Name, err)
	}
	u := a.api.JoinPath("heartbeat").String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mig %s: heartbeat request: %w", a.d.Server.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("mig %s: POST %s: %w", a.d.Server.Name, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var answer struct {
		Error *string `json:"error"`
	}
	msg := snippet(raw)
	if json.Unmarshal(raw, &answer) == nil && answer.Error != nil {
		msg = *answer.Error
	}
	return fmt.Errorf("mig %s: heartbeat refused: HTTP %d: %s", a.d.Server.Name, resp.StatusCode, msg)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
