package httpclient

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// proxyFunc chooses the proxy for a request URL the way Go's environment proxy does
// (golang.org/x/net/http/httpproxy, which net/http vendors): httpProxy for http, httpsProxy for
// https, never for loopback hosts, and not for hosts matching noProxy ("*", IPs, CIDRs,
// domains with optional port; "example.com" and ".example.com" also match subdomains). It is
// ours because importing that module for its Config type linked a second copy of it and of
// x/net/idna and x/text (~150 KB, and their package initialisation at every start).
// Internationalised names are compared as written: a NO_PROXY entry in Unicode matches a
// server URL in Unicode, not its punycode form.
func proxyFunc(httpProxy, httpsProxy, noProxy string) func(*url.URL) (*url.URL, error) {
	m := newNoProxy(noProxy)
	hp, hsp := parseProxyValue(httpProxy), parseProxyValue(httpsProxy)
	return func(u *url.URL) (*url.URL, error) {
		var p *url.URL
		switch u.Scheme {
		case "https":
			p = hsp
		case "http":
			p = hp
		}
		if p == nil || !m.useProxy(u) {
			return nil, nil
		}
		return p, nil
	}
}

// parseProxyValue reads a proxy setting; a bare host:port means http://. Unparsable values give
// nil (newProxySetup has already rejected them with a clear error).
func parseProxyValue(v string) *url.URL {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + v); err2 == nil {
			return u2
		}
	}
	if err != nil {
		return nil
	}
	return u
}

type noProxyMatcher struct {
	all      bool
	prefixes []netip.Prefix
	ips      []ipPort
	domains  []domainPort
}

type ipPort struct {
	ip   netip.Addr
	port string
}

type domainPort struct {
	suffix    string // ".example.com"
	port      string
	matchHost bool // "example.com" itself matches too (the entry had no leading dot)
}

func newNoProxy(list string) *noProxyMatcher {
	m := &noProxyMatcher{}
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "*" {
			return &noProxyMatcher{all: true}
		}
		if pfx, err := netip.ParsePrefix(p); err == nil {
			m.prefixes = append(m.prefixes, pfx.Masked())
			continue
		}
		host, port, err := net.SplitHostPort(p)
		if err == nil {
			if host == "" {
				continue
			}
			host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		} else {
			host, port = p, ""
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			m.ips = append(m.ips, ipPort{ip: ip.Unmap(), port: port})
			continue
		}
		if host == "" {
			continue
		}
		host = strings.TrimPrefix(host, "*")
		d := domainPort{suffix: host, port: port}
		if !strings.HasPrefix(host, ".") {
			d.matchHost, d.suffix = true, "."+host
		}
		m.domains = append(m.domains, d)
	}
	return m
}

// useProxy reports whether a request to u goes through the proxy.
func (m *noProxyMatcher) useProxy(u *url.URL) bool {
	host := u.Hostname()
	if host == "" {
		return true
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	if host == "localhost" {
		return false
	}
	ip, err := netip.ParseAddr(host)
	isIP := err == nil
	if isIP {
		ip = ip.Unmap()
		if ip.IsLoopback() {
			return false
		}
	}
	if m.all {
		return false
	}
	host = strings.ToLower(strings.TrimSpace(host))
	if isIP {
		for _, p := range m.prefixes {
			if p.Contains(ip) {
				return false
			}
		}
		for _, e := range m.ips {
			if e.ip == ip && (e.port == "" || e.port == port) {
				return false
			}
		}
		return true
	}
	for _, d := range m.domains {
		if strings.HasSuffix(host, d.suffix) || (d.matchHost && host == d.suffix[1:]) {
			if d.port == "" || d.port == port {
				return false
			}
		}
	}
	return true
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	case "socks5":
		return "1080"
	}
	return ""
}
