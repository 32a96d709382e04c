package glpi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// Sections never compared for partial inventories: they change at every run.
func volatileSection(k string) bool {
	return k == "accesslog" || k == "versionprovider" || k == "versionclient"
}

// alwaysSections go in every partial inventory (GLPI matches the computer with them).
var alwaysSections = []string{"bios", "hardware", "versionclient", "versionprovider", "accesslog"}

// prepared is an inventory ready to send.
type prepared struct {
	Payload []byte // the INVENTORY message, uncompressed JSON
	Digests map[string]string
	Full    bool
	Dropped []string
}

// message is the top level of an INVENTORY message.
type message struct {
	Action   string `json:"action"`
	DeviceID string `json:"deviceid"`
	ItemType string `json:"itemtype"`
	Partial  bool   `json:"partial"`
	Tag      string `json:"tag,omitempty"`
	Content  obj    `json:"content"`
}

// buildDocument maps, then validates and repairs, the full inventory message. It returns the
// generic document (top level and content as maps).
func buildDocument(inv *inventory.Inventory, deviceID, tag string, mo mapOptions, skip []string, log *slog.Logger) (map[string]any, []string, error) {
	content := buildContent(inv, mo)
	for _, s := range skip {
		if s = strings.TrimSpace(s); s != "" && s != "versionclient" {
			delete(content, s)
		}
	}
	msg := message{Action: "inventory", DeviceID: deviceID, ItemType: "Computer", Tag: tag, Content: content}
	doc, err := toGeneric(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("encode inventory: %w", err)
	}
	schemas, err := compiled()
	if err != nil {
		return nil, nil, fmt.Errorf("load GLPI schemas: %w", err)
	}
	dropped, err := sanitize(doc, schemas, log)
	if err != nil {
		return nil, dropped, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, dropped, fmt.Errorf("inventory document is not an object")
	}
	return m, dropped, nil
}

// digests hashes each comparable section of content.
func digests(content map[string]any) map[string]string {
	out := map[string]string{}
	for _, k := range sortedKeys(content) {
		if volatileSection(k) {
			continue
		}
		raw, _ := json.Marshal(content[k]) // map keys are sorted by encoding/json
		sum := sha256.Sum256(raw)
		out[k] = hex.EncodeToString(sum[:])
	}
	return out
}

// selectPartial keeps the sections that changed (plus the identifying ones). It reports
// whether a full inventory is needed instead: a section disappeared or nothing is stored.
func selectPartial(content map[string]any, now, prev map[string]string) (map[string]any, bool) {
	if len(prev) == 0 {
		return content, true
	}
	for k := range prev {
		if _, ok := now[k]; !ok {
			return content, true // a section disappeared: only a full inventory removes it
		}
	}
	out := map[string]any{}
	for _, k := range alwaysSections {
		if v, ok := content[k]; ok {
			out[k] = v
		}
	}
	for k, d := range now {
		if prev[k] != d {
			out[k] = content[k]
		}
	}
	if _, ok := out["softwares"]; ok {
		if v, ok := content["operatingsystem"]; ok {
			out["operatingsystem"] = v // GLPI needs it beside softwares
		}
	}
	if _, ok := out["users"]; !ok {
		if hw, ok := out["hardware"].(map[string]any); ok {
			hw2 := make(map[string]any, len(hw))
			for k, v := range hw {
				if k != "lastloggeduser" && k != "datelastloggeduser" {
					hw2[k] = v
				}
			}
			out["hardware"] = hw2
		}
	}
	return out, false
}

// prepare builds the message to send: full or partial per the run counter.
func (a *Adapter) prepare(ctx context.Context, skip []string, forceFull bool) (*prepared, error) {
	inv, err := a.deps.Inventory.Inventory(ctx)
	if err != nil {
		return nil, fmt.Errorf("collect inventory: %w", err)
	}
	mo := mapOptions{Version: a.deps.Identity.AgentVersion, LastFull: a.st.LastFull, Program: "omniagent"}
	doc, dropped, err := buildDocument(inv, a.st.DeviceID, a.opts.Tag, mo, skip, a.log)
	if err != nil {
		return nil, err
	}
	content, _ := doc["content"].(map[string]any)
	dg := digests(content)
	postpone := a.opts.FullInventoryPostpone
	full := forceFull || postpone == 0 || a.st.RunCount%(postpone+1) == 0
	if !full {
		sel, needFull := selectPartial(content, dg, a.st.Digests)
		if needFull {
			full = true
		} else {
			doc["content"] = sel
			doc["partial"] = true
		}
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	return &prepared{Payload: payload, Digests: dg, Full: full, Dropped: dropped}, nil
}

// FormatInventory renders the INVENTORY message this adapter would send (uncompressed JSON,
// full inventory). The deviceid is the one the agent stores per server; here, with no state,
// it is made from the host name and the collection time.
func FormatInventory(_ context.Context, inv *inventory.Inventory, id identity.Identity) ([]byte, error) {
	at := inv.Meta.CollectedAt
	if at.IsZero() {
		at = time.Now()
	}
	host := firstNonEmpty(id.Hostname, inv.System.Hostname)
	doc, _, err := buildDocument(inv, makeDeviceID(host, at), "", mapOptions{Version: id.AgentVersion, Program: "omniagent"}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc) // byte for byte what submit sends, before compression
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// sendPartial sends the partial inventory GLPI asked for with /now?partial=yes&category=…:
// the identifying sections and the requested ones. The full/partial rotation and the section
// digests stay as they are: the next scheduled inventory compares with the last one sent in it.
func (a *Adapter) sendPartial(ctx context.Context, categories, skip []string) (string, error) {
	inv, err := a.deps.Inventory.Inventory(ctx)
	if err != nil {
		return "partial inventory not built", fmt.Errorf("collect inventory: %w", err)
	}
	mo := mapOptions{Version: a.deps.Identity.AgentVersion, LastFull: a.st.LastFull, Program: "omniagent"}
	doc, _, err := buildDocument(inv, a.st.DeviceID, a.opts.Tag, mo, skip, a.log)
	if err != nil {
		return "partial inventory not built", err
	}
	content, _ := doc["content"].(map[string]any)
	out := map[string]any{}
	for _, k := range alwaysSections {
		if v, ok := content[k]; ok {
			out[k] = v
		}
	}
	for _, c := range categories {
		if k := categorySection(c); k != "" {
			if v, ok := content[k]; ok {
				out[k] = v
			}
		}
	}
	if _, ok := out["softwares"]; ok {
		if v, ok := content["operatingsystem"]; ok {
			out["operatingsystem"] = v // GLPI needs it beside softwares
		}
	}
	doc["content"], doc["partial"] = out, true
	payload, err := json.Marshal(doc)
	if err != nil {
		return "partial inventory not built", fmt.Errorf("encode inventory: %w", err)
	}
	if err := a.submit(ctx, payload); err != nil {
		return "partial inventory not sent", fmt.Errorf("INVENTORY (partial %s): %w", strings.Join(categories, ","), err)
	}
	return "partial inventory sent (" + strings.Join(categories, ",") + ")", nil
}
