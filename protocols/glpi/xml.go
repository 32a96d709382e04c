package glpi

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// prologReply is a FusionInventory-era answer.
type prologReply struct {
	XMLName    xml.Name `xml:"REPLY"`
	PrologFreq string   `xml:"PROLOG_FREQ"`
	Response   string   `xml:"RESPONSE"`
	Error      string   `xml:"ERROR"`
}

// prolog sends the XML PROLOG with GLPI-Agent-ID: a GLPI 10+ server answers JSON (the
// server kind is remembered), a FusionInventory server answers XML and gets the XML path.
func (a *Adapter) prolog(ctx context.Context) (string, string, error) {
	now := a.now()
	body := []byte(`<?xml version="1.0" encoding="UTF-8" ?>` + "\n<REQUEST><DEVICEID>" + xmlEscape(a.st.DeviceID) +
		"</DEVICEID><QUERY>PROLOG</QUERY><TOKEN>12345678</TOKEN></REQUEST>\n")
	enc := a.encoding()
	if enc == CompressBrotli {
		enc = CompressZlib // PROLOG allows only xml, zlib or gzip
	}
	rep, err := a.post(ctx, "", body, ctXML, enc)
	if err != nil {
		return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: %w", err)
	}
	trim := bytes.TrimSpace(rep.Body)
	if len(trim) > 0 && trim[0] == '{' {
		ans, err := decodeAnswer(rep)
		if err != nil {
			return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: %w", err)
		}
		if d, err := parseExpiration(ans.Expiration); err != nil || d <= 0 || ans.Status == "" {
			return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: JSON answer without a valid status and expiration: %q", snippet(trim))
		}
		if a.st.Mode != modeJSON {
			a.log.Info("GLPI 10+ server found: using the JSON protocol")
		}
		a.st.Mode = modeJSON
		return modeJSON, "", nil
	}
	if rep.HTTP != 200 {
		return modeUnknown, "prolog failed", &errServer{HTTP: rep.HTTP, Message: snippet(trim)}
	}
	var pr prologReply
	if err := xml.Unmarshal(trim, &pr); err != nil {
		return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: answer is neither JSON nor an XML REPLY: %q", snippet(trim))
	}
	if pr.Error != "" {
		return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: server error: %s", pr.Error)
	}
	freq, err := strconv.Atoi(strings.TrimSpace(pr.PrologFreq))
	if err != nil || freq <= 0 {
		return modeUnknown, "prolog failed", fmt.Errorf("PROLOG: PROLOG_FREQ %q is not a positive number of hours", pr.PrologFreq)
	}
	if a.st.Mode != modeXML {
		a.log.Info("FusionInventory-era server found: using the XML protocol")
	}
	a.st.Mode = modeXML
	// Capped like a JSON expiration: a huge PROLOG_FREQ would overflow to a negative delay.
	a.st.MaxDelay = maxExpiration
	if freq < int(maxExpiration/time.Hour) {
		a.st.MaxDelay = time.Duration(freq) * time.Hour
	}
	a.st.NextContact = now.Add(a.st.MaxDelay)
	if !strings.EqualFold(strings.TrimSpace(pr.Response), "SEND") && !a.run.ForceUpdate {
		return modeXML, "prolog ok, no inventory asked", nil
	}
	if !a.opts.taskEnabled("inventory") && !a.run.ForceUpdate {
		return modeXML, "prolog ok", nil
	}
	if err := a.sendXMLInventory(ctx); err != nil {
		a.st.NextContact = time.Time{}
		return modeXML, "xml inventory failed", err
	}
	a.st.LastFull = now
	return modeXML, "xml inventory sent", nil
}

// sendXMLInventory sends the full inventory in the legacy XML form.
func (a *Adapter) sendXMLInventory(ctx context.Context) error {
	inv, err := a.deps.Inventory.Inventory(ctx)
	if err != nil {
		return fmt.Errorf("collect inventory: %w", err)
	}
	doc, _, err := buildDocument(inv, a.st.DeviceID, a.opts.Tag, mapOptions{Version: a.deps.Identity.AgentVersion, LastFull: a.st.LastFull, Program: "omniagent"}, nil, a.log)
	if err != nil {
		return err
	}
	content, _ := doc["content"].(map[string]any)
	body, err := xmlInventory(a.st.DeviceID, a.opts.Tag, content)
	if err != nil {
		return err
	}
	enc := a.encoding()
	if enc == CompressBrotli {
		enc = CompressZlib
	}
	rep, err := a.post(ctx, "", body, ctXML, enc)
	if err != nil {
		return fmt.Errorf("XML INVENTORY: %w", err)
	}
	if rep.HTTP != 200 {
		return &errServer{HTTP: rep.HTTP, Message: snippet(bytes.TrimSpace(rep.Body))}
	}
	var pr prologReply
	if err := xml.Unmarshal(bytes.TrimSpace(rep.Body), &pr); err == nil && pr.Error != "" {
		return fmt.Errorf("XML INVENTORY: server error: %s", pr.Error)
	}
	return nil
}

// Legacy XML names that differ from the upper-cased JSON ones.
// (Switches, not package-level maps: a map literal is built by code at every start.)
func xmlRename(section, key string) string {
	switch section + "." + key {
	case "networks.mac":
		return "MACADDR"
	case "softwares.install_date":
		return "INSTALLDATE"
	case "storages.serial":
		return "SERIALNUMBER"
	case "local_groups.members":
		return "MEMBER"
	}
	return ""
}

func xmlSectionRename(section string) string {
	if section == "firewalls" {
		return "FIREWALL"
	}
	return ""
}

// xmlInventory renders the content as a FusionInventory XML INVENTORY request.
func xmlInventory(deviceID, tag string, content map[string]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" ?>` + "\n<REQUEST><CONTENT>")
	for _, k := range sortedKeys(content) {
		name := xmlSectionRename(k)
		if name == "" {
			name = strings.ToUpper(k)
		}
		if err := writeXMLValue(&b, name, k, content[k]); err != nil {
			return nil, err
		}
	}
	if tag != "" {
		b.WriteString("<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>" + xmlEscape(tag) + "</KEYVALUE></ACCOUNTINFO>")
	}
	b.WriteString("</CONTENT><DEVICEID>" + xmlEscape(deviceID) + "</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>\n")
	return b.Bytes(), nil
}

func writeXMLValue(b *bytes.Buffer, name, section string, v any) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := writeXMLValue(b, name, section, e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		b.WriteString("<" + name + ">")
		for _, k := range sortedKeys(x) {
			child := xmlRename(section, k)
			if child == "" {
				child = strings.ToUpper(k)
			}
			if err := writeXMLValue(b, child, section, x[k]); err != nil {
				return err
			}
		}
		b.WriteString("</" + name + ">")
		return nil
	case string:
		b.WriteString("<" + name + ">" + xmlEscape(x) + "</" + name + ">")
	case json.Number:
		b.WriteString("<" + name + ">" + x.String() + "</" + name + ">")
	case bool:
		v := "0"
		if x {
			v = "1"
		}
		b.WriteString("<" + name + ">" + v + "</" + name + ">")
	case float64:
		b.WriteString("<" + name + ">" + strconv.FormatFloat(x, 'f', -1, 64) + "</" + name + ">")
	case int64:
		b.WriteString("<" + name + ">" + strconv.FormatInt(x, 10) + "</" + name + ">")
	case nil:
	default:
		return errors.New("xml inventory: unexpected value type " + fmt.Sprintf("%T", v))
	}
	return nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
