package httpclient

import (
	"net/url"
	"testing"

	"golang.org/x/net/http/httpproxy"
)

// TestProxyFuncMatchesGo checks our proxy choice against golang.org/x/net/http/httpproxy (what
// net/http uses for the environment) on the same settings and URLs: the module is a test
// dependency only, the binary carries our copy of its rules.
func TestProxyFuncMatchesGo(t *testing.T) {
	noProxies := []string{
		"",
		"*",
		"example.com",
		".example.com",
		"*.example.com",
		"example.com:8443",
		"10.0.0.0/8, 192.168.1.7",
		"192.168.1.7:8080",
		"[::1]:443,fd00::/8, 2001:db8::5",
		" Intranet.LAN , ,foo.bar:80",
		":80, [], *.",
		"127.0.0.1",
	}
	targets := []string{
		"http://example.com/x", "https://example.com", "https://www.example.com:8443/a",
		"https://notexample.com", "http://sub.intranet.lan", "https://INTRANET.lan",
		"http://10.1.2.3", "https://192.168.1.7:8080", "https://192.168.1.7",
		"https://[fd00::1]/", "https://[2001:db8::5]:443", "http://localhost:8080",
		"http://127.0.0.1:9", "https://[::1]", "http://foo.bar", "http://foo.bar:81",
		"ws://example.com", "ftp://example.com", "https://[::ffff:10.0.0.1]",
		"http://server", "https://server:443",
	}
	proxies := []struct{ http, https string }{
		{"http://proxy:3128", "http://user:pw@sproxy:3129"},
		{"proxy.lan:8080", ""},
		{"", "socks5://s:1080"},
	}
	for _, px := range proxies {
		for _, np := range noProxies {
			ours := proxyFunc(px.http, px.https, np)
			theirs := (&httpproxy.Config{HTTPProxy: px.http, HTTPSProxy: px.https, NoProxy: np}).ProxyFunc()
			for _, target := range targets {
				u, err := url.Parse(target)
				if err != nil {
					t.Fatal(err)
				}
				got, gerr := ours(u)
				want, werr := theirs(u)
				if (gerr != nil) != (werr != nil) || str(got) != str(want) {
					t.Errorf("proxy (%q, %q) no_proxy %q, %s: got %v (%v), Go's httpproxy %v (%v)", px.http, px.https, np, target, got, gerr, want, werr)
				}
			}
		}
	}
}

func str(u *url.URL) string {
	if u == nil {
		return "direct"
	}
	return u.String()
}
