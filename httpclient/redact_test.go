package httpclient

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://user:s3cret@proxy:3128", "http://user@proxy:3128"},
		{"http://user@proxy:3128", "http://user@proxy:3128"},
		{"http://proxy:3128", "http://proxy:3128"},
		{"amqps://agent:s3cret@relay:5671/mig", "amqps://agent@relay:5671/mig"},
		{"http://us%40er:s3cret@proxy:3128", "http://us%40er@proxy:3128"},
		// Unparsable or misparsed: everything up to the last '@' is masked.
		{"http://user:50%offs3cret@proxy:3128", "http://xxxxx@proxy:3128"},
		{"http://user:s3 cret@proxy:3128", "http://xxxxx@proxy:3128"},
		{"user:s3cret@proxy:3128", "xxxxx@proxy:3128"},
		{"http://user:s3c@ret@proxy:3128", "http://user@proxy:3128"}, // Go accepts '@' in a password
		{"http://us:er:s3cret@proxy:3128", "http://us@proxy:3128"},
		{"http://user:12/s3cret@proxy:3128", "http://xxxxx@proxy:3128"},
		{"http://user:s3?cret@proxy:3128", "http://xxxxx@proxy:3128"},
		{"http://user:s3#cret@proxy:3128", "http://xxxxx@proxy:3128"},
		{"x:y://user:s3cret@proxy", "xxxxx@proxy"},
		{"", ""},
		{"@", "xxxxx@"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestProxySecretNeverPrinted feeds malformed proxy keys and environment values and greps
// every output (the error of New, ProxyInEffect's description and error) for the password.
func TestProxySecretNeverPrinted(t *testing.T) {
	const secret = "S3cret"
	bad := []string{
		"http://user:50%off" + secret + "@proxy:3128",
		"http://user:a " + secret + "@proxy:3128",
		"user:" + secret + "@proxy:3128",
		"http://user:" + secret + "@",
		"ftp://user:" + secret + "@proxy:21",
		"http://user:12/" + secret + "@proxy:3128",
		"http://user:" + secret + "%zz@proxy:3128",
		"http://user:" + secret + "\x7f@proxy:3128",
		"http ://user:" + secret + "@proxy:3128",
		":" + secret + "@proxy",
	}
	for _, v := range bad {
		var outputs []string
		for _, vars := range []map[string]string{
			nil, {"HTTPS_PROXY": v}, {"http_proxy": v}, {"HTTP_PROXY": v, "HTTPS_PROXY": "http://ok:3128"},
		} {
			o := Options{Server: "s", Getenv: func(k string) string { return vars[k] }}
			if vars == nil {
				o.Proxy = v
			}
			_, err := New(o)
			if err != nil {
				outputs = append(outputs, err.Error())
			}
			for _, u := range []string{"https://srv.example/", "http://srv.example/", "", "http://127.0.0.1/"} {
				d, err := ProxyInEffect(o, u)
				outputs = append(outputs, d)
				if err != nil {
					outputs = append(outputs, err.Error())
				}
			}
			if err == nil && vars == nil {
				t.Errorf("proxy key %q accepted", v)
			}
		}
		for _, out := range outputs {
			if strings.Contains(out, secret) {
				t.Errorf("value %q: the password is printed: %s", v, out)
			}
		}
	}
	// The variable is named in the error.
	_, err := New(Options{Server: "s", Getenv: func(k string) string {
		return map[string]string{"HTTPS_PROXY": bad[0]}[k]
	}})
	if err == nil || !strings.Contains(err.Error(), "environment variable HTTPS_PROXY") || !strings.Contains(err.Error(), "percent-encode") {
		t.Errorf("bad HTTPS_PROXY: %v", err)
	}
}

func TestProxyInEffect(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://u:p@envproxy:3128", "NO_PROXY": "internal.example"}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		proxy, noProxy, url, want string
	}{
		{"http://u:p@proxy:3128", "", "https://srv.example", "http://u@proxy:3128"},
		{"http://u:p@proxy:3128", "", "https://internal.example", "http://u@proxy:3128"}, // the file wins over NO_PROXY
		{"http://u:p@proxy:3128", "srv.example", "https://srv.example", "http://u@proxy:3128, bypassed: srv.example matches no_proxy/NO_PROXY"},
		{"http://u:p@proxy:3128", "", "https://127.0.0.1:8443", "http://u@proxy:3128, bypassed: loopback server (Go never proxies localhost, 127.0.0.0/8, ::1)"},
		{"http://u:p@proxy:3128", "", "http://localhost", "http://u@proxy:3128, bypassed: loopback server (Go never proxies localhost, 127.0.0.0/8, ::1)"},
		{"http://u:p@proxy:3128", "", "", "http://u@proxy:3128"},
		{"", "", "https://srv.example", "env (HTTPS_PROXY=http://u@envproxy:3128)"},
		{"", "", "https://internal.example", "env (HTTPS_PROXY=http://u@envproxy:3128), bypassed: internal.example matches no_proxy/NO_PROXY"},
		{"", "srv.example", "https://srv.example", "env (HTTPS_PROXY=http://u@envproxy:3128), bypassed: srv.example matches no_proxy/NO_PROXY"},
		{"", "", "http://srv.example", "env (HTTP_PROXY not set: direct)"},
		{"none", "", "https://srv.example", "none"},
	} {
		got, err := ProxyInEffect(Options{Server: "s", Proxy: c.proxy, NoProxy: c.noProxy, Getenv: getenv}, c.url)
		if err != nil || got != c.want {
			t.Errorf("ProxyInEffect(%q, no_proxy %q, %q) = %q, %v; want %q", c.proxy, c.noProxy, c.url, got, err, c.want)
		}
	}
}

// FuzzRedactURL: whatever surrounds it, a password before the last '@' is never shown: the
// output is the scheme, the user name (only when the URL parses) or xxxxx, '@' and the host.
func FuzzRedactURL(f *testing.F) {
	for _, s := range [][3]string{
		{"user", "s3cret", "proxy:3128"}, {"user", "50%offS3cret", "proxy:3128"}, {"u", "12/ab", "h"},
		{"", "pass word", "h:1"}, {"a:b", "c@d", "e"}, {"us%zz", "p?q#r", "[::1]:3128"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, user, pw, host string) {
		if strings.Contains(host, "@") || strings.Contains(user, "://") {
			return
		}
		name, _, _ := strings.Cut(user+":"+pw, ":")
		raw := "http://" + user + ":" + pw + "@" + host
		if out := RedactURL(raw); out != "http://xxxxx@"+host && out != "http://"+name+"@"+host {
			t.Fatalf("RedactURL(%q) = %q", raw, out)
		}
		if strings.HasPrefix(pw, "//") { // user://… is a scheme, not a user name
			return
		}
		raw = user + ":" + pw + "@" + host
		if out := RedactURL(raw); out != "xxxxx@"+host {
			t.Fatalf("RedactURL(%q) = %q", raw, out)
		}
	})
}
