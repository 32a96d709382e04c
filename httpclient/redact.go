package httpclient

import (
	"net/url"
	"strings"
)

// RedactURL hides the user information (password and, unless the URL parses cleanly, the user
// name) of a proxy or relay URL for errors, logs and status output. It is the one redaction
// helper of every protocol.
//
// Everything up to the last '@' is masked whatever url.Parse says: a value that does not parse
// (a raw '%' or a space in the password), has no scheme (user:password@host parses as an opaque
// URL), or whose password holds a '/' (http://user:12/x@host parses with "12" as the port) still
// never shows its password. Only when the URL parses and its user information is exactly what
// precedes the last '@' is the user name kept: http://user:password@host:3128 gives
// http://user@host:3128.
func RedactURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw[:at], "://"); i > 0 && isScheme(raw[:i]) {
		start = i + 3
	}
	user := "xxxxx"
	if u, err := url.Parse(raw); err == nil && u.User != nil && u.Opaque == "" && start > 0 {
		info := raw[start:at]
		name, _, _ := strings.Cut(info, ":")
		if un, err := url.PathUnescape(name); err == nil && un == u.User.Username() && !strings.ContainsAny(info, "/?#") {
			user = name
		}
	}
	return raw[:start] + user + raw[at:]
}

// isScheme reports whether s is a URL scheme: a letter then letters, digits, '+', '-' or '.'.
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
