package glpi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/glpi"
	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

func cycle(t *testing.T, a *glpi.Adapter) (protocols.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Cycle(ctx)
}

// TestFirstContactJSON: PROLOG with GLPI-Agent-ID gets JSON, the server kind is remembered,
// CONTACT carries tasks and tag, the full inventory passes both schemas on the fake.
func TestFirstContactJSON(t *testing.T) {
	e := newEnv(t)
	a := e.adapter(nil)
	if ok, _ := regexp.MatchString(`^pc1-2026-03-04-\d\d-00-00$`, a.DeviceID()); !ok {
		t.Errorf("deviceid %q", a.DeviceID())
	}
	if ok, _ := regexp.MatchString(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a.AgentID()); !ok {
		t.Errorf("agentid %q", a.AgentID())
	}
	res, err := cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Next != 24*time.Hour {
		t.Errorf("next = %s, want the CONTACT expiration 24h", res.Next)
	}
	var prologs int
	var contacts []map[string]any
	e.fake.Get(func(s *glpifake.Server) { prologs, contacts = s.Prologs, s.Contacts })
	if prologs != 1 || len(contacts) != 1 {
		t.Fatalf("prologs %d contacts %d", prologs, len(contacts))
	}
	c := contacts[0]
	if c["tag"] != "site-a" || c["name"] != "omniagent" || c["deviceid"] != a.DeviceID() {
		t.Errorf("contact = %v", c)
	}
	if got := c["enabled-tasks"].([]any); len(got) != 2 {
		t.Errorf("enabled-tasks %v", got)
	}
	inv := e.fake.Received()
	if len(inv) != 1 || inv[0].Partial || inv[0].Tag != "site-a" || inv[0].Encoding != "application/x-compress-zlib" {
		t.Fatalf("inventories = %+v", inv)
	}
	ct := inv[0].Content
	hw := ct["hardware"].(map[string]any)
	if hw["memory"] != float64(16384) || hw["name"] != "pc1" || hw["vmsystem"] != "Physical" {
		t.Errorf("hardware = %v", hw)
	}
	cpu := ct["cpus"].([]any)[0].(map[string]any)
	if cpu["speed"] != float64(4200) || cpu["arch"] != "x86_64" || cpu["familynumber"] != "6" {
		t.Errorf("cpu = %v", cpu)
	}
	bios := ct["bios"].(map[string]any)
	if bios["bdate"] != "2022-03-15" || bios["ssn"] != "PF2ABCDE" || bios["secure_boot"] != "enabled" {
		t.Errorf("bios = %v", bios)
	}
	tz := ct["operatingsystem"].(map[string]any)["timezone"].(map[string]any)
	if tz["name"] != "CET" || tz["offset"] != "+0100" {
		t.Errorf("timezone = %v", tz)
	}
	nets := ct["networks"].([]any)
	if len(nets) != 4 { // lo, eth0 v4, eth0 v6, tun0 (no type: not in the enum)
		t.Errorf("networks = %v", nets)
	}
	for _, n := range nets {
		m := n.(map[string]any)
		if m["description"] == "tun0" && m["type"] != nil {
			t.Errorf("tun0 type %v sent", m["type"])
		}
	}
	// Second cycle before expiration does nothing; after it, CONTACT without PROLOG.
	e.clock.Advance(time.Hour)
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	e.fake.Get(func(s *glpifake.Server) { prologs, contacts = s.Prologs, s.Contacts })
	if len(contacts) != 1 {
		t.Errorf("contacted before expiration: %d", len(contacts))
	}
	e.clock.Advance(24 * time.Hour)
	a2 := e.adapter(nil) // restart: the server kind and ids are remembered
	if a2.DeviceID() != a.DeviceID() || a2.AgentID() != a.AgentID() {
		t.Errorf("identity changed across restart")
	}
	if _, err := cycle(t, a2); err != nil {
		t.Fatal(err)
	}
	e.fake.Get(func(s *glpifake.Server) { prologs, contacts = s.Prologs, s.Contacts })
	if prologs != 1 || len(contacts) != 2 {
		t.Errorf("after restart: prologs %d contacts %d", prologs, len(contacts))
	}
	var ids map[string]string
	e.fake.Get(func(s *glpifake.Server) { ids = s.AgentIDs })
	if ids[a.DeviceID()] != a.AgentID() {
		t.Errorf("GLPI-Agent-ID = %q", ids[a.DeviceID()])
	}
}

// TestFirstContactXML: a FusionInventory-era server answers PROLOG in XML; the agent sends
// the XML inventory and schedules on PROLOG_FREQ.
func TestFirstContactXML(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.XMLMode = true })
	a := e.adapter(nil)
	res, err := cycle(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Next != 24*time.Hour || res.Details["mode"] != "FusionInventory (XML)" {
		t.Errorf("res = %+v", res)
	}
	inv := e.fake.Received()
	if len(inv) != 1 || !inv[0].XML {
		t.Fatalf("inventories = %+v", inv)
	}
	raw := string(inv[0].Raw)
	for _, want := range []string{"<QUERY>INVENTORY</QUERY>", "<DEVICEID>" + a.DeviceID() + "</DEVICEID>", "<MACADDR>aa:bb:cc:dd:ee:ff</MACADDR>", "<HARDWARE>", "<SOFTWARES>", "<INSTALLDATE>2025-01-02</INSTALLDATE>", "<KEYVALUE>site-a</KEYVALUE>"} {
		if !strings.Contains(raw, want) {
			t.Errorf("xml inventory lacks %s", want)
		}
	}
	var contacts int
	e.fake.Get(func(s *glpifake.Server) { contacts = len(s.Contacts) })
	if contacts != 0 {
		t.Errorf("CONTACT sent to an XML server")
	}
}

// TestExpirationForms: every form of CONTACT expiration drives the next cycle; invalid ones
// are a clear error and the server is probed again.
func TestExpirationForms(t *testing.T) {
	for _, tc := range []struct {
		exp  any
		want time.Duration
		bad  bool
	}{
		{"1d", 24 * time.Hour, false},
		{float64(24), 24 * time.Hour, false},
		{"24", 24 * time.Hour, false},
		{"30m", 30 * time.Minute, false},
		{"45s", time.Minute, false}, // raised to the 1 min floor
		{"1s", time.Minute, false},
		{float64(1), time.Hour, false},
		{"6h", 6 * time.Hour, false},
		{"-1", 0, true},
		{"1w", 0, true},
		{"0", 0, true},
		{"", 0, true},
	} {
		t.Run(strings.ReplaceAll(jsonStr(tc.exp), `"`, "q"), func(t *testing.T) {
			e := newEnv(t)
			e.fake.Set(func(s *glpifake.Server) { s.ContactExpiration = tc.exp })
			a := e.adapter(nil)
			res, err := cycle(t, a)
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "expiration") {
					t.Fatalf("err = %v, want an expiration error", err)
				}
				if res.Next != time.Minute {
					t.Errorf("next = %s, want the 60s re-probe", res.Next)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Next != tc.want {
				t.Errorf("next = %s, want %s", res.Next, tc.want)
			}
		})
	}
}

// TestServerDelayFloor: a GLPI answering expiration "1s" is contacted once a minute, not every
// second, and the raise is logged once, not at every contact.
func TestServerDelayFloor(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.logW = &logs
	e.fake.Set(func(s *glpifake.Server) { s.ContactExpiration = "1s" })
	a := e.adapter(nil)
	for i := range 3 {
		res, err := cycle(t, a)
		if err != nil {
			t.Fatal(err)
		}
		if res.Next != time.Minute {
			t.Fatalf("cycle %d: next = %s, want the 1 min floor", i, res.Next)
		}
		e.clock.Advance(time.Minute)
	}
	if n := strings.Count(logs.String(), "under the minimum"); n != 1 {
		t.Errorf("floor logged %d times, want once:\n%s", n, logs.String())
	}
}

func jsonStr(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestBusyServerRetryAcrossRestart: "busy server" keeps the inventory on disk; a restarted
// agent sends the same inventory at the busy expiration.
func TestBusyServerRetryAcrossRestart(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.Busy = 1; s.BusyExpiration = "30m" })
	a := e.adapter(nil)
	res, err := cycle(t, a)
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("err = %v", err)
	}
	if res.Next != 30*time.Minute {
		t.Errorf("next = %s, want 30m", res.Next)
	}
	if res.Details["queued_inventory"] == "" {
		t.Errorf("no queued inventory in details: %v", res.Details)
	}
	if len(e.fake.Received()) != 0 {
		t.Fatal("accepted while busy")
	}
	// The machine changes meanwhile: the queued inventory is what goes.
	changed := sampleInventory()
	changed.System.Hostname = "renamed"
	e.inv.set(changed)
	e.clock.Advance(10 * time.Minute)
	a2 := e.adapter(nil)
	if _, err := cycle(t, a2); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.Received()) != 0 {
		t.Fatal("sent before the busy expiration")
	}
	e.clock.Advance(21 * time.Minute)
	res, err = cycle(t, a2)
	if err != nil {
		t.Fatal(err)
	}
	got := e.fake.Received()
	if len(got) != 1 || got[0].Content["hardware"].(map[string]any)["name"] != "pc1" {
		t.Fatalf("received = %+v", got)
	}
	if !strings.Contains(res.Summary, "queued inventory sent") {
		t.Errorf("summary = %q", res.Summary)
	}
}

// TestServerErrorAndNetworkFailureSpool: 5xx and an unreachable server keep the inventory.
func TestServerErrorAndNetworkFailureSpool(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.Fail5xx = 1 })
	a := e.adapter(nil)
	if _, err := cycle(t, a); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	if _, err := cycle(t, a); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Received()); n != 1 {
		t.Fatalf("received %d", n)
	}
	// Network failure: the server is gone at CONTACT.
	e.clock.Advance(25 * time.Hour)
	url := e.fake.URL
	e.fake.Close()
	a2 := e.adapter(func(s *config.Server, _ *glpi.Options) { s.URL = url + "/front/inventory.php" })
	if _, err := cycle(t, a2); err == nil {
		t.Fatal("no error with the server down")
	}
}

// TestPartialThenFull: after a full inventory, only changed sections go (with bios and
// hardware, operatingsystem beside softwares); a full one comes back every N+1 runs.
func TestPartialThenFull(t *testing.T) {
	e := newEnv(t)
	mut := func(_ *config.Server, o *glpi.Options) { o.FullInventoryPostpone = 2 }
	a := e.adapter(mut)
	run := func() glpifake.Inventory {
		t.Helper()
		e.clock.Advance(25 * time.Hour)
		if _, err := cycle(t, a); err != nil {
			t.Fatal(err)
		}
		r := e.fake.Received()
		return r[len(r)-1]
	}
	first := run()
	if first.Partial {
		t.Fatal("first inventory partial")
	}
	inv := sampleInventory()
	inv.Software = append(inv.Software, sampleInventory().Software[0])
	inv.Software[1].Name = "zsh"
	e.inv.set(inv)
	second := run()
	if !second.Partial {
		t.Fatal("second inventory not partial")
	}
	for _, k := range []string{"bios", "hardware", "softwares", "operatingsystem", "versionclient"} {
		if _, ok := second.Content[k]; !ok {
			t.Errorf("partial lacks %s", k)
		}
	}
	for _, k := range []string{"cpus", "networks", "drives", "users"} {
		if _, ok := second.Content[k]; ok {
			t.Errorf("partial has unchanged %s", k)
		}
	}
	if _, ok := second.Content["hardware"].(map[string]any)["lastloggeduser"]; ok {
		t.Error("partial without users carries hardware.lastloggeduser")
	}
	third := run()
	if !third.Partial || third.Content["softwares"] != nil {
		t.Errorf("third: partial %v softwares %v", third.Partial, third.Content["softwares"] != nil)
	}
	fourth := run()
	if fourth.Partial {
		t.Error("fourth inventory (postpone 2) not full")
	}
	// A section that disappears forces a full inventory.
	inv2 := sampleInventory()
	inv2.Software = append(inv2.Software, inv.Software[1])
	inv2.Batteries = nil
	e.inv.set(inv2)
	if fifth := run(); fifth.Partial {
		t.Error("inventory after a section disappeared is partial")
	}
}

// TestCompression: every configured encoding reaches the fake; brotli falls back to zlib
// when the server refuses it (GLPI 10.0.12 answers 500).
func TestCompression(t *testing.T) {
	for _, tc := range []struct {
		enc, want string
		brotliOK  bool
	}{
		{glpi.CompressZlib, "application/x-compress-zlib", false},
		{glpi.CompressGzip, "application/x-compress-gzip", false},
		{glpi.CompressNone, "application/json", false},
		{glpi.CompressBrotli, "application/x-compress-br", true},
		{glpi.CompressBrotli, "application/x-compress-zlib", false},
	} {
		t.Run(tc.enc+"/"+tc.want, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Set(func(s *glpifake.Server) { s.BrotliOK = tc.brotliOK })
			a := e.adapter(func(_ *config.Server, o *glpi.Options) { o.Compression = tc.enc })
			if _, err := cycle(t, a); err != nil {
				t.Fatal(err)
			}
			got := e.fake.Received()
			if len(got) != 1 || got[0].Encoding != tc.want {
				t.Fatalf("received %+v", got)
			}
		})
	}
}

// TestRejectedInventoryNotQueued: a schema rejection (400) is not retried forever, and the
// inventory-disabled page is reported clearly.
func TestInventoryDisabled(t *testing.T) {
	e := newEnv(t)
	e.fake.Set(func(s *glpifake.Server) { s.InventoryDisabled = true })
	a := e.adapter(nil)
	_, err := cycle(t, a)
	if err == nil || !strings.Contains(err.Error(), "Inventory is disabled") {
		t.Fatalf("err = %v", err)
	}
}

// TestFormatInventory: `omniagent inventory --format glpi` output validates and is the
// INVENTORY message.
func TestFormatInventory(t *testing.T) {
	out, err := glpi.FormatInventory(context.Background(), sampleInventory(), identityFor())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["action"] != "inventory" || m["itemtype"] != "Computer" || m["content"] == nil {
		t.Errorf("message = %v", m)
	}
	validateBoth(t, out)
	if d := glpi.DroppedFields(sampleInventory(), identityFor()); len(d) != 0 {
		t.Errorf("a well-formed machine needed repairs (mapping bugs): %v", d)
	}
}

// TestFormatInventoryWindowsAndVM: a Windows VM's model (drive letters, product id, Hyper-V,
// arm64 CPU) maps without repairs.
func TestFormatInventoryWindowsAndVM(t *testing.T) {
	inv := sampleInventory()
	inv.OS = inventory.OS{Family: "windows", Name: "Microsoft Windows 11 Pro", Version: "23H2", Build: "22631.3296", KernelName: "Windows NT", KernelVersion: "10.0.22631", Arch: "arm64", ProductID: "00330-80000-00000-AA123", Language: "1033", InstallDate: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	inv.System.Virtual = inventory.Virtual{Kind: "vm", Vendor: "hyperv", Role: "guest"}
	inv.System.Workgroup = "WORKGROUP"
	inv.CPUs[0].Arch = "arm64"
	inv.Volumes = []inventory.Volume{{Device: `\\?\Volume{1234}`, Mountpoint: "C:", Filesystem: "NTFS", TotalBytes: 200 << 30, FreeBytes: 50 << 30, Label: "OS"}}
	inv.Software[0].GUID = "{12345678-1234-1234-1234-123456789012}"
	inv.Sessions = []inventory.UserSession{{User: `CORP\alice`}}
	out, err := glpi.FormatInventory(context.Background(), inv, identityFor())
	if err != nil {
		t.Fatal(err)
	}
	validateBoth(t, out)
	if d := glpi.DroppedFields(inv, identityFor()); len(d) != 0 {
		t.Errorf("repairs: %v", d)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	c := m["content"].(map[string]any)
	drv := c["drives"].([]any)[0].(map[string]any)
	hw := c["hardware"].(map[string]any)
	user := c["users"].([]any)[0].(map[string]any)
	if drv["letter"] != "C:" || hw["vmsystem"] != "Hyper-V" || hw["winprodid"] == nil || c["cpus"].([]any)[0].(map[string]any)["arch"] != "aarch64" || user["login"] != "alice" || user["domain"] != "CORP" {
		t.Errorf("drive %v hardware %v user %v", drv, hw, user)
	}
}
