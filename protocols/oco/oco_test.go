package oco_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/oco"
	"github.com/omniagent/omniagent/protocols/oco/ocofake"
	"github.com/omniagent/omniagent/protocols/protocoltest"
)

func TestHMACVector(t *testing.T) {
	req := `{"jsonrpc": "2.0", "id": 1, "method": "oco.agent.hello", "params": {"uid": "vec-uid-0001", "hostname": "vec1", "timestamp": 1795340000.1234, "data": {"agent_version": "1.2.0", "networks": [], "services": [], "uptime": 100, "battery_level": false, "battery_status": false, "force_update": false}}}`
	if len(req) != 296 {
		t.Fatalf("request vector is %d bytes, want 296", len(req))
	}
	if got := oco.Sign("regkey123", []byte(req)); got != "f9d13a0b06e52ddcd797f2a06c6d2cddfbb93279481c004aa9da5178b6b0699d" {
		t.Errorf("agent signature = %s", got)
	}
	ans := `{"id":1,"error":null,"result":{"success":true,"params":{"server-key":"n97czxck8hof457yicufi04lvmd2tc","agent-key":"7o7adl3qqsj6fdc5igqom9pnfnnaiz","update":1,"logins-since":"1970-01-01 00:00:00","software-jobs":[],"events":[{"since":"1970-01-01 00:00:00","log":"journalctl","query":"{\"unit\":\"ssh.service\",\"priority\":\"3\"}"},{"since":"1970-01-01 00:00:00","log":"System","query":"<QueryList><Query><Select>*[System[(EventID=1130)]]<\/Select><\/Query><\/QueryList>"}],"update-passwords":[]},"timestamp":1795339940.400518}}`
	if len(ans) != 527 {
		t.Fatalf("answer vector is %d bytes, want 527", len(ans))
	}
	const want = "c81af9eee842723b7f0e2776d234471f87887aeffeba7f4d396ae917d011bb89"
	if got := oco.Sign("n97czxck8hof457yicufi04lvmd2tc", []byte(ans)); got != want {
		t.Errorf("server signature = %s", got)
	}
	if !oco.VerifySignature("n97czxck8hof457yicufi04lvmd2tc", []byte(ans), want) || oco.VerifySignature("other", []byte(ans), want) {
		t.Error("VerifySignature disagrees with Sign")
	}
}

func TestVersionCompare(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want int // against 1.1.7
	}{{"1.2.0", 1}, {"1.2.0+goagent.1", 1}, {"1.1.8-rc1", 1}, {"1.1.7", 0}, {"0.1.0", -1}, {"1.1.7-go", -1}, {"1.1.7+go", -1}, {"?", -1}} {
		if got := oco.VersionCompare(tc.v, "1.1.7"); got != tc.want {
			t.Errorf("version_compare(%q, 1.1.7) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestFirstContactRestartAndPinnedKeys(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	a := e.adapter(nil)
	res, err := a.Cycle(ctx)
	if err != nil {
		t.Fatalf("first contact: %v", err)
	}
	if !strings.Contains(res.Summary, "inventory sent") || res.Details["server_key"] != "pinned" || res.Details["protocol"] != "hmac" {
		t.Errorf("result = %+v", res)
	}
	c, ok := e.fake.Computer("PC1") // case-insensitive lookup
	if !ok || c.Inventory == nil || c.AgentVersion != "1.2.0" || c.UID == "" {
		t.Fatalf("computer on the server = %+v", c)
	}
	if errs := e.fake.SchemaErrors(); len(errs) > 0 {
		t.Errorf("inventory types differ from the server's: %v", errs)
	}
	nets := c.Inventory["networks"].([]any)
	if len(nets) != 3 { // 10.1.2.3, 2001:db8::5, wlan0 MAC-only
		t.Errorf("networks = %v", nets)
	}
	st := readState(t, e.stateDir)
	if st["agent_key"] != c.AgentKey || st["server_key"] != c.ServerKey || len(c.AgentKey) != 30 {
		t.Fatalf("state keys %v / %v, server %q %q", st["agent_key"], st["server_key"], c.AgentKey, c.ServerKey)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(filepath.Join(e.stateDir, "servers", "oco-test.json"))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("state file mode %v", fi.Mode().Perm())
		}
	}
	ts1 := c.LastTS

	// The registration key no longer authenticates this hostname.
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"oco.agent.hello","params":{"hostname":"pc1","timestamp":9999999999,"data":{"agent_version":"1.2.0"}}}`)
	if code, text := rawPost(t, e, body, oco.Sign(regKey, body), "application/json", true); code != 401 || text != "Invalid agent signature" {
		t.Errorf("hello with the registration key after registration: %d %q", code, text)
	}

	// A restarted agent (new adapter, same state) goes on with the pinned keys; even with its
	// clock an hour back, its timestamps keep increasing.
	e.now = func() time.Time { return time.Now().Add(-time.Hour) }
	a2 := e.adapter(nil)
	res, err = a2.Cycle(ctx)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	c2, _ := e.fake.Computer("pc1")
	if c2.AgentKey != c.AgentKey || c2.ServerKey != c.ServerKey || c2.LastTS <= ts1 {
		t.Errorf("after restart: keys changed or timestamp not increasing (%v -> %v)", ts1, c2.LastTS)
	}
	if strings.Contains(res.Summary, "inventory sent") {
		t.Errorf("inventory re-sent without the server asking: %q", res.Summary)
	}
	// Admin "force update" less than 25 s after the last update: the server refuses it, in
	// its own words; later, the next hello says update: 1 and the inventory goes.
	e.fake.SetForceUpdate("pc1")
	if _, err = a2.Cycle(ctx); err == nil || !strings.Contains(err.Error(), `"Update refused (too often or invalid data)"`) {
		t.Errorf("forced update within 25 s: %v", err)
	}
	e.clock.Advance(time.Minute)
	if res, err = a2.Cycle(ctx); err != nil || !strings.Contains(res.Summary, "inventory sent") {
		t.Errorf("forced update: %q %v", res.Summary, err)
	}
}

// rawPost sends a hand-made request; lower puts the signature header in lower case.
func rawPost(t *testing.T, e *testEnv, body []byte, sig, ctype string, lower bool) (int, string) {
	t.Helper()
	c, err := httpclient.New(httpclient.Options{CAFile: e.caFile, ForceHTTP1: true, Proxy: "none"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.fake.URL(), bytes.NewReader(body))
	req.Header["Content-Type"] = []string{ctype}
	if lower {
		req.Header["x-oco-agent-signature"] = []string{sig}
	} else {
		req.Header.Set("x-oco-agent-signature", sig)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFakeServerChecks(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"oco.agent.hello","params":{"hostname":"newpc","timestamp":1,"data":{"agent_version":"1.2.0"}}}`)
	sig := oco.Sign(regKey, body)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		lower       bool
		code        int
		text        string
	}{
		{"canonical header case", "application/json", body, false, 401, "Signature header missing"},
		{"charset in content type", "application/json; charset=utf-8", body, true, 400, "Content type mismatch"},
		{"no hostname", "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"oco.agent.hello","params":{"data":{}}}`), true, 400, "Invalid JSON data"},
		{"unknown computer", "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"oco.agent.events","params":{"hostname":"nobody","data":{}}}`), true, 401, "Computer not found"},
	} {
		s := sig
		if !bytes.Equal(tc.body, body) {
			s = oco.Sign(regKey, tc.body)
		}
		if code, text := rawPost(t, e, tc.body, s, tc.ctype, tc.lower); code != tc.code || text != tc.text {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, text, tc.code, tc.text)
		}
	}
	if code, text := rawPost(t, e, body, sig, "application/json", true); code != 200 {
		t.Fatalf("valid registration: %d %s", code, text)
	}
	// The registration key no longer works for this hostname once its key was issued.
	if code, text := rawPost(t, e, body, sig, "application/json", true); code != 401 || text != "Invalid agent signature" {
		t.Errorf("registration key after registration: %d %q", code, text)
	}
}

func TestReplayedRequestFromAdapterIsRefused(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	body, sig := e.fake.LastRequest()
	if code, text := rawPost(t, e, body, sig, "application/json", true); code != 401 || text != "Agent timestamp too old" {
		t.Errorf("replay of the adapter's last request: %d %q", code, text)
	}
}

func TestServerKeyChangeRefused(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	pinned := readState(t, e.stateDir)["server_key"]
	e.fake.ChangeServerKey("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
	_, err := a.Cycle(ctx)
	if !errors.Is(err, oco.ErrServerKeyChanged) {
		t.Fatalf("cycle with a changed server key: %v", err)
	}
	if got := readState(t, e.stateDir)["server_key"]; got != pinned {
		t.Fatalf("pinned key replaced: %v -> %v", pinned, got)
	}
	// A config pin that disagrees with the state is refused too.
	_, err = e.adapter(func(_ *config.Server, o *oco.Options) { o.ServerKey = "different" }).Cycle(ctx)
	if err == nil || !strings.Contains(err.Error(), "never replaced") {
		t.Fatalf("conflicting server_key in config: %v", err)
	}
}

func TestReplayedAnswerRefused(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.ReplayNextAnswer()
	_, err := a.Cycle(ctx)
	if err == nil || !strings.Contains(err.Error(), "not newer") {
		t.Fatalf("replayed answer: %v", err)
	}
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatalf("next cycle after the replay: %v", err)
	}
}

func TestServerRefusalSurfaces(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: false})
	res, err := e.adapter(nil).Cycle(context.Background())
	var se *oco.ServerError
	if !errors.As(err, &se) || se.Status != 401 || se.Body != "Client self-registration is disabled" {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `"Client self-registration is disabled"`) || !strings.Contains(res.Details["last_server_error"], "self-registration") {
		t.Errorf("the server's words are not in the error/status: %v / %v", err, res.Details)
	}
	// A pre-registered computer authenticates with the registration key anyway.
	e.fake.AddComputer("PC1")
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatalf("pre-registered computer: %v", err)
	}
	if c, _ := e.fake.Computer("pc1"); c.AgentKey == "" || readState(t, e.stateDir)["agent_key"] != c.AgentKey {
		t.Errorf("agent key not issued/stored: %+v", c)
	}
}

func TestPlainHTTPNeedsOptIn(t *testing.T) {
	f := ocofake.New(ocofake.Options{SelfRegistration: true, RegistrationKey: regKey})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newEnv(t, ocofake.Options{})
	_, err := e.build(func(s *config.Server, _ *oco.Options) { s.URL = f.URL() })
	if err == nil || !strings.Contains(err.Error(), "allow_plain_http") {
		t.Fatalf("plain http accepted without opt-in: %v", err)
	}
	a := e.adapter(func(s *config.Server, o *oco.Options) { s.URL, o.AllowPlainHTTP = f.URL(), true })
	if _, err := a.Cycle(context.Background()); err != nil {
		t.Fatalf("plain http with allow_plain_http: %v", err)
	}
}

func TestAutoModeDetection(t *testing.T) {
	old := newEnv(t, ocofake.Options{SelfRegistration: true, Legacy116: true})
	res, err := old.adapter(func(_ *config.Server, o *oco.Options) { o.OCOProtocol = oco.ModeAuto }).Cycle(context.Background())
	if err != nil || res.Details["protocol"] != "legacy" || !strings.Contains(res.Details["protocol_reason"], "1.1.6") {
		t.Fatalf("auto against 1.1.6: %v %+v", err, res.Details)
	}
	cur := newEnv(t, ocofake.Options{SelfRegistration: true})
	a := cur.adapter(func(_ *config.Server, o *oco.Options) { o.OCOProtocol = oco.ModeAuto })
	if res, err := a.Cycle(context.Background()); err != nil || res.Details["protocol"] != "hmac" {
		t.Fatalf("auto against current: %v %+v", err, res.Details)
	}
	if readState(t, cur.stateDir)["signed_answer_seen"] != true {
		t.Error("signed answer not remembered (downgrade protection)")
	}
}

func TestEventsSent(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.fake.AddEventRule(ocofake.EventRule{Log: "journalctl", Query: `{"unit":"ssh.service","priority":"3"}`})
	e.fake.AddEventRule(ocofake.EventRule{Log: "Security", Query: "<QueryList>Größe</QueryList>"})
	a := e.adapter(nil)
	var queries []string
	oco.SetEventReader(a, recordedEvents(&queries))
	res, err := a.Cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	evs := e.fake.Events()
	if len(evs) != 1 || evs[0].Log != "ssh.service" || evs[0].Provider != "sshd" || evs[0].Level != 3 || evs[0].EventID != -1 || evs[0].Timestamp != "2026-01-02 03:04:05" || evs[0].Data["message"] != "error: boom" {
		t.Fatalf("events on the server = %+v", evs)
	}
	if !strings.Contains(res.Summary, "1 events sent") || len(queries) != 2 || !strings.HasPrefix(queries[0], "journalctl|1970-01-01") {
		t.Errorf("summary %q, queries %v", res.Summary, queries)
	}
	// The answer was PHP-escaped ("\/", "\u00f6") and verified over its raw bytes.
	raw := ""
	for _, x := range e.fake.Exchanges() {
		if x.Method == "oco.agent.hello" {
			raw = x.Answer
		}
	}
	if !strings.Contains(raw, `<\/QueryList>`) || !strings.Contains(raw, `Gr\u00f6\u00dfe`) {
		t.Errorf("answer not PHP-escaped: %s", raw)
	}
	// The next hello's since is the newest stored event.
	queries = nil
	a.Cycle(context.Background())
	if len(queries) == 0 || !strings.Contains(queries[0], "2026-01-02 03:04:05") {
		t.Errorf("second round queries = %v", queries)
	}
}

func TestFormatInventory(t *testing.T) {
	out, err := oco.FormatInventory(context.Background(), sampleInventory(), identityFor("pc1"))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{"os": "Debian GNU/Linux", "os_version": "12", "kernel_version": "6.1.0-18-amd64", "os_license": "-", "ram": float64(16 << 30), "boot_type": "UEFI", "secure_boot": "1", "battery_level": 0.8, "battery_status": float64(2), "domain": "pc1.example.com"}
	for k, v := range checks {
		if d[k] != v {
			t.Errorf("%s = %#v, want %#v", k, d[k], v)
		}
	}
	sw := d["software"].([]any)
	if v, ok := sw[1].(map[string]any)["version"]; !ok || v != "" {
		t.Errorf("software without version: %v", sw[1])
	}
	dev := d["devices"].([]any)[0].(map[string]any)
	if dev["vendor"] != float64(0x046d) || dev["subsystem"] != "usb" {
		t.Errorf("device = %v", dev)
	}
	if parts := d["partitions"].([]any); len(parts) != 1 {
		t.Errorf("partitions = %v", parts)
	}
	if l := d["logins"].([]any)[0].(map[string]any); l["timestamp"] != "2026-01-02 03:04:05" || l["guid"] != nil {
		t.Errorf("login = %v", l)
	}
}

func TestInventoryChangeTriggersUpdate(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	ctx := context.Background()
	clock := time.Now()
	e.now = func() time.Time { return clock }
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	// Uptime and free space change all the time: not a change.
	e.inv.System.Uptime += 500
	e.inv.Volumes[0].FreeBytes -= 1 << 20
	clock = clock.Add(2 * time.Hour)
	if res, err := a.Cycle(ctx); err != nil || strings.Contains(res.Summary, "inventory sent") {
		t.Fatalf("volatile change sent an inventory: %q %v", res.Summary, err)
	}
	e.inv.Software = append(e.inv.Software, inventory.Software{Name: "new-tool", Version: "1.0"})
	clock = clock.Add(2 * time.Hour)
	res, err := a.Cycle(ctx)
	if err != nil || !strings.Contains(res.Summary, "inventory sent") {
		t.Fatalf("changed software not sent: %q %v", res.Summary, err)
	}
	c, _ := e.fake.Computer("pc1")
	if sw := c.Inventory["software"].([]any); len(sw) != 3 {
		t.Errorf("software on the server = %v", sw)
	}
}

func TestLoginsSince(t *testing.T) {
	inv := sampleInventory()
	inv.Logins = append(inv.Logins, inventory.Login{User: "bob", Remote: "10.0.0.9", Time: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	d := oco.MapInventory(inv, nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if len(d.Logins) != 1 || d.Logins[0].Username != "bob" || d.Logins[0].Console != "10.0.0.9" || d.Logins[0].Timestamp != "2026-02-01 00:00:00" {
		t.Errorf("logins since = %+v", d.Logins)
	}
}

// TestFakeUpdateQuirks checks the fake's update rules from the acceptance list: an update
// without agent_version switches the computer to legacy checks, a duplicate uid is a 500.
func TestFakeUpdateQuirks(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	if _, err := e.adapter(nil).Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, _ := e.fake.Computer("pc1")
	ts := c.LastTS
	post := func(method, data string) (int, string) {
		ts += 1
		body := []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":{"hostname":"pc1","timestamp":%f,"data":%s}}`, method, ts, data))
		return rawPost(t, e, body, oco.Sign(c.AgentKey, body), "application/json", true)
	}
	if code, text := post("oco.agent.update", `{}`); code != 400 || text != "Invalid JSON data" {
		t.Errorf("empty update: %d %q", code, text)
	}
	if code, text := post("oco.agent.update", `{"os":"x","software":[{"name":"a","version":null}]}`); code != 500 || text != "" {
		t.Errorf("software without version: %d %q", code, text)
	}
	if code, text := post("oco.agent.update", `{"os":"x"}`); code != 200 {
		t.Fatalf("update without agent_version: %d %q", code, text)
	}
	if code, text := post("oco.agent.update_job_state", `{"job-id":1,"state":2,"return-code":null,"message":""}`); code != 401 || text != "Agent key mismatch" {
		t.Errorf("HMAC request after a version-less update: %d %q", code, text)
	}
	// The next hello carries agent_version and restores HMAC checks.
	if code, text := post("oco.agent.hello", `{"agent_version":"1.2.0"}`); code != 200 {
		t.Errorf("hello restoring HMAC: %d %q", code, text)
	}
	// A second computer with the same uid cannot send its inventory.
	e2 := newEnv(t, ocofake.Options{SelfRegistration: true})
	e2.fake = e.fake
	e2.stateDir = t.TempDir()
	e2.caFile = e.caFile
	e2.hostname = "pc2"
	_, err := e2.adapter(nil).Cycle(context.Background())
	var se *oco.ServerError
	if !errors.As(err, &se) || se.Status != 500 {
		t.Errorf("duplicate uid: %v", err)
	}
}

// TestPartitionUsageMatchesDf: OCO shows (size-free)/size as the used share; with 5 % of the
// blocks reserved for root, df says Use% = used/(used+avail) = 15/95. The size sent must make
// OCO's figure the same, not (100-80)/100.
func TestPartitionUsageMatchesDf(t *testing.T) {
	inv := sampleInventory()
	inv.Volumes = []inventory.Volume{
		{Device: "/dev/sda1", Mountpoint: "/", Filesystem: "ext4", TotalBytes: 100 << 30, UsedBytes: 15 << 30, FreeBytes: 80 << 30},
		{Device: "C:", Mountpoint: "C:", Filesystem: "NTFS", TotalBytes: 100 << 30, FreeBytes: 80 << 30}, // no reserve known
	}
	d := oco.MapInventory(inv, nil, time.Time{})
	if len(d.Partitions) != 2 {
		t.Fatalf("partitions = %+v", d.Partitions)
	}
	for i, want := range []float64{100 * 15.0 / 95, 20} {
		p := d.Partitions[i]
		if got := 100 * float64(p.Size-p.Free) / float64(p.Size); got < want-0.01 || got > want+0.01 {
			t.Errorf("%s: OCO would show %.1f %% used (size %d free %d), df %.1f %%", p.Mountpoint, got, p.Size, p.Free, want)
		}
	}
}

// TestUsersUIDRange: OCO gets the accounts with uid in [local_users_min_uid,
// local_users_max_uid] (default 1000–65534, as the official agent) and every non-numeric one
// (Windows SIDs); GLPI keeps the whole list (the inventory is not changed).
func TestUsersUIDRange(t *testing.T) {
	inv := sampleInventory()
	inv.Users = []inventory.User{
		{Name: "root", UID: "0"}, {Name: "www-data", UID: "33"}, {Name: "systemd-oom", UID: "996"},
		{Name: "alice", UID: "1000"}, {Name: "nobody", UID: "65534"}, {Name: "nfs", UID: "4294967294"},
		{Name: "Admin", UID: "S-1-5-21-1-2-3-500"},
	}
	names := func(d oco.UpdateData) string {
		var out []string
		for _, u := range d.Users {
			out = append(out, u.Username)
		}
		return strings.Join(out, ",")
	}
	if got := names(oco.MapInventory(inv, nil, time.Time{})); got != "alice,nobody,Admin" {
		t.Errorf("default users = %s, want alice,nobody,Admin", got)
	}
	o := oco.NewOptions()
	o.LocalUsersMinUID, o.LocalUsersMaxUID = 0, 1<<32
	if got := names(oco.MapInventory(inv, o, time.Time{})); got != "root,www-data,systemd-oom,alice,nobody,nfs,Admin" {
		t.Errorf("users with the whole range = %s", got)
	}
	if len(inv.Users) != 7 {
		t.Error("the inventory's user list was changed")
	}
	o.LocalUsersMinUID, o.LocalUsersMaxUID = 2000, 1000
	if err := o.Validate(); err == nil {
		t.Error("min above max accepted")
	}
}

// TestDebugLogHasNoSecret runs first contact (registration key), a job and a second hello with
// the issued keys, every exchange logged at debug, and greps the log for the keys.
func TestDebugLogHasNoSecret(t *testing.T) {
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	e.logs = protocoltest.NewLogCapture(t)
	ctx := context.Background()
	a := e.adapter(nil)
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.AddJob(ocofake.Job{ID: 90, ContainerID: 9, Hostname: "pc1", Procedure: "echo hello"})
	if _, err := a.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	c, ok := e.fake.Computer("pc1")
	if !ok || c.AgentKey == "" {
		t.Fatalf("computer %+v", c)
	}
	e.logs.CheckNoSecrets(t, regKey, c.AgentKey, c.ServerKey)
}

// partialInventory is a provider that can collect categories alone, and counts both kinds.
type partialInventory struct {
	inv           *inventory.Inventory
	full, partial int
	asked         []string
}

func (p *partialInventory) Inventory(context.Context) (*inventory.Inventory, error) {
	p.full++
	return p.inv, nil
}

func (p *partialInventory) Partial(_ context.Context, cats ...string) (*inventory.Inventory, error) {
	p.partial++
	p.asked = cats
	return &inventory.Inventory{System: p.inv.System, Networks: p.inv.Networks, Batteries: p.inv.Batteries}, nil
}

// Hello carries facts read alone; the full inventory is read only once the server answered:
// never for a server out of reach, then again only every inventory_check, and a change found
// then is sent in the same cycle.
func TestHelloFactsBeforeFullInventory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, ocofake.Options{SelfRegistration: true})
	prov := &partialInventory{inv: e.inv}
	e.prov = prov
	clock := time.Now()
	e.now = func() time.Time { return clock }

	down := newEnv(t, ocofake.Options{SelfRegistration: true})
	downProv := &partialInventory{inv: down.inv}
	down.prov = downProv
	down.fake.Close()
	if _, err := down.adapter(nil).Cycle(ctx); err == nil {
		t.Fatal("cycle against a closed server succeeded")
	}
	if downProv.full != 0 || downProv.partial != 1 {
		t.Fatalf("server out of reach: %d full and %d partial collections, want 0 and 1", downProv.full, downProv.partial)
	}
	if want := []string{inventory.CategorySystem, inventory.CategoryNetwork, inventory.CategoryBatteries}; !slices.Equal(downProv.asked, want) {
		t.Errorf("hello asked for %v, want %v", downProv.asked, want)
	}

	a := e.adapter(nil)
	res, err := a.Cycle(ctx)
	if err != nil || !strings.Contains(res.Summary, "inventory sent") {
		t.Fatalf("first cycle: %q %v", res.Summary, err)
	}
	if prov.full != 1 {
		t.Errorf("first cycle: %d full collections, want 1", prov.full)
	}
	if c, _ := e.fake.Computer("pc1"); len(c.Networks) == 0 {
		t.Error("hello carried no networks")
	}
	// Within inventory_check, the server not asking: hello only.
	clock = clock.Add(10 * time.Minute)
	if res, err := a.Cycle(ctx); err != nil || strings.Contains(res.Summary, "inventory sent") || prov.full != 1 {
		t.Fatalf("cycle within inventory_check: %q %v, %d full collections", res.Summary, err, prov.full)
	}
	// After inventory_check, a change is found after hello and sent in the same cycle.
	e.inv.Software = append(e.inv.Software, inventory.Software{Name: "new-tool", Version: "1.0"})
	clock = clock.Add(2 * time.Hour)
	if res, err := a.Cycle(ctx); err != nil || !strings.Contains(res.Summary, "inventory sent") || prov.full != 2 {
		t.Fatalf("cycle after a change: %q %v, %d full collections", res.Summary, err, prov.full)
	}
	if c, _ := e.fake.Computer("pc1"); c.Updates != 2 {
		t.Errorf("server got %d updates, want 2", c.Updates)
	}
	if prov.partial != 3 {
		t.Errorf("%d hellos read their facts alone, want 3", prov.partial)
	}
}
