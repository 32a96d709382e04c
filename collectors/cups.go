package collectors

import (
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// ParseCUPSPrinters reads CUPS's printers.conf (Linux and macOS): <Printer name> or
// <DefaultPrinter name> blocks of "Key value" lines.
func ParseCUPSPrinters(b []byte) []inventory.Printer {
	var out []inventory.Printer
	var cur *inventory.Printer
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "<") && strings.HasSuffix(line, ">") {
			tag := strings.TrimSuffix(strings.TrimPrefix(line, "<"), ">")
			kind, name, _ := strings.Cut(tag, " ")
			switch kind {
			case "Printer", "DefaultPrinter":
				cur = &inventory.Printer{Name: strings.TrimSpace(name), Default: kind == "DefaultPrinter"}
			case "/Printer", "/DefaultPrinter":
				if cur != nil && cur.Name != "" {
					out = append(out, *cur)
				}
				cur = nil
			}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		v = strings.TrimSpace(v)
		switch k {
		case "Info":
			cur.Description = v
		case "Location":
			cur.Location = v
		case "MakeModel":
			cur.Driver = v
		case "DeviceURI":
			cur.Port = redactURI(v)
			scheme, _, _ := strings.Cut(v, ":")
			switch scheme {
			case "ipp", "ipps", "http", "https", "socket", "lpd", "smb", "dnssd", "mdns":
				cur.Network = true
			}
		case "State":
			cur.Status = strings.ToLower(v)
		case "Shared":
			cur.Shared = strings.EqualFold(v, "yes") || v == "true" || v == "1"
		}
	}
	return out
}

// redactURI drops a password from a device URI (smb://user:pass@host/queue).
func redactURI(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndexByte(rest, '@')
	slash := strings.IndexByte(rest, '/')
	if at < 0 || (slash >= 0 && at > slash) {
		return u
	}
	if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
		return scheme + "://" + user + "@" + rest[at+1:]
	}
	return u
}
