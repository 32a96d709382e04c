package httpclient

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// logTransport logs each exchange at debug level: method, path, status, bytes both ways and
// duration. Never the query, headers or bodies: they carry keys, tokens and signatures.
type logTransport struct {
	base http.RoundTripper
	log  *slog.Logger // carries the server's name already
}

func (t *logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if !t.log.Enabled(ctx, slog.LevelDebug) {
		return t.base.RoundTrip(r)
	}
	start := time.Now()
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength <= 0 { // streamed: count it
		cb := &countingBody{rc: r.Body}
		r = r.Clone(ctx)
		r.Body = cb
		resp, err := t.base.RoundTrip(r)
		return t.after(ctx, r, resp, err, start, cb.n)
	}
	resp, err := t.base.RoundTrip(r)
	return t.after(ctx, r, resp, err, start, max(r.ContentLength, 0))
}

func (t *logTransport) after(ctx context.Context, r *http.Request, resp *http.Response, err error, start time.Time, sent int64) (*http.Response, error) {
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int64("sent", sent)}
	if err != nil {
		t.log.LogAttrs(ctx, slog.LevelDebug, "http exchange failed", append(attrs, slog.Duration("took", time.Since(start).Round(time.Millisecond)), slog.String("err", redactErr(err, r)))...)
		return resp, err
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode))
	// 101: the WebSocket library takes the connection over through the body, unwrapped.
	if resp.Body == nil || resp.Body == http.NoBody || r.Method == http.MethodHead || resp.StatusCode == http.StatusSwitchingProtocols {
		t.log.LogAttrs(ctx, slog.LevelDebug, "http exchange", append(attrs, slog.Int64("received", 0), slog.Duration("took", time.Since(start).Round(time.Millisecond)))...)
		return resp, nil
	}
	// The received count is known when the caller is done with the body.
	resp.Body = &loggedBody{rc: resp.Body, done: func(n int64) {
		t.log.LogAttrs(ctx, slog.LevelDebug, "http exchange", append(attrs, slog.Int64("received", n), slog.Duration("took", time.Since(start).Round(time.Millisecond)))...)
	}}
	return resp, nil
}

// redactErr is the error without the request's query (a url.Error quotes the full URL).
func redactErr(err error, r *http.Request) string {
	s := err.Error()
	if r.URL.RawQuery == "" && r.URL.User == nil {
		return s
	}
	full := r.URL.String()
	u := *r.URL
	u.RawQuery, u.User = "", nil
	return strings.ReplaceAll(s, full, u.String())
}

type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingBody) Close() error { return c.rc.Close() }

type loggedBody struct {
	rc   io.ReadCloser
	n    int64
	once sync.Once
	done func(int64)
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err == io.EOF {
		b.once.Do(func() { b.done(b.n) })
	}
	return n, err
}

func (b *loggedBody) Close() error {
	b.once.Do(func() { b.done(b.n) })
	return b.rc.Close()
}
