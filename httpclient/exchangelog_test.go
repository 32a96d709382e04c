package httpclient

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestExchangeLog: at debug each exchange is one line with method, path, status, bytes both
// ways and duration; the query, headers and bodies (where secrets travel) never appear; above
// debug nothing is logged.
func TestExchangeLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "answer-with-token-s3cr3t")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", "t")
	c, err := New(Options{Server: "t", Proxy: "none", ExchangeLog: log})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/hello?token=s3cr3t", strings.NewReader(`{"key":"s3cr3t"}`))
	req.Header.Set("Authorization", "Bearer s3cr3t")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	// A streamed body (no length) is counted as it goes.
	resp, err = c.Post(srv.URL+"/missing", "text/plain", io.MultiReader(strings.NewReader("abc"), strings.NewReader("de")))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	// A failed exchange names the path, not the query.
	if _, err := c.Get("http://127.0.0.1:1/down?password=s3cr3t"); err == nil {
		t.Fatal("port 1 answered")
	}
	out := buf.String()
	for _, re := range []string{
		`level=DEBUG msg="http exchange" server=t method=POST path=/api/hello sent=16 status=200 received=24 took=\S+`,
		`msg="http exchange" server=t method=POST path=/missing sent=5 status=404 received=19 `,
		`msg="http exchange failed" server=t method=GET path=/down sent=0 took=\S+ err=`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("log lacks %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("a secret reached the log:\n%s", out)
	}

	buf.Reset()
	quiet, _ := New(Options{Server: "t", Proxy: "none", ExchangeLog: slog.New(slog.NewTextHandler(&buf, nil))})
	if resp, err := quiet.Get(srv.URL + "/x"); err == nil {
		resp.Body.Close()
	}
	if buf.Len() != 0 {
		t.Errorf("logged at info level: %s", buf.String())
	}
}
