package jumpcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody bounds every answer: System Context answers are small.
const maxBody = 1 << 20

// client sends signed requests for one system; it is built per cycle from fresh key material.
type client struct {
	http *http.Client
	base string // https://console.jumpcloud.com
	id   *Identity
	now  func() time.Time
	// recordOK is set once the record GET worked: a later 401 cannot be the key or the clock.
	recordOK bool
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string // truncated to 256 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("jumpcloud: %s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// AuthError is a 401 with the likely causes named.
type AuthError struct {
	Method, Path string
	Causes       []string
	Skew         time.Duration // server Date minus local clock, when the answer had a Date
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("jumpcloud: 401 on %s %s: not authorized; likely causes: %s", e.Method, e.Path, strings.Join(e.Causes, "; "))
}

// do sends one signed request; in is JSON-encoded when non-nil, out decoded when non-nil.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("jumpcloud: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("jumpcloud: build %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := Sign(req, c.id.SystemKey, c.id.Key, c.now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("jumpcloud: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("jumpcloud: %s %s: read answer: %w", method, path, err)
	}
	if len(data) > maxBody {
		return fmt.Errorf("jumpcloud: %s %s: answer larger than %d bytes", method, path, maxBody)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return c.explain401(method, path, resp)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The body goes into logs and status output: valid UTF-8, cut on a rune boundary.
		b := strings.ToValidUTF8(string(data), "\uFFFD")
		if len(b) > 256 {
			cut := 256
			for cut > 0 && !utf8.RuneStart(b[cut]) {
				cut--
			}
			b = b[:cut] + "…"
		}
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: b}
	}
	if path == "/api/systems/"+c.id.SystemKey && method == http.MethodGet {
		c.recordOK = true
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("jumpcloud: %s %s: bad JSON answer: %w", method, path, err)
		}
	}
	return nil
}

// explain401 names what remains possible: JumpCloud gives the same bare 401 for every cause.
func (c *client) explain401(method, path string, resp *http.Response) error {
	e := &AuthError{Method: method, Path: path}
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		e.Skew = t.Sub(c.now())
		if s := e.Skew.Round(time.Second); s > time.Minute || s < -time.Minute {
			e.Causes = append(e.Causes, fmt.Sprintf("clock skew of %d s between this machine and the server (fix the time sync)", int(-s.Seconds())))
			return e
		}
	}
	if c.recordOK {
		e.Causes = append(e.Causes, "this path or id is not allowed for a system context (only its own record, groups and associations are)")
		return e
	}
	e.Causes = append(e.Causes,
		"the key is wrong or the system was deleted or re-enrolled (check jcagent.conf and the JumpCloud agent log)",
		"the system was enrolled by a user through the User Portal or by MDM/ADE, which System Context refuses",
		"the path is not allowed for a system context")
	return e
}

// pages GETs a paged list (limit 100) and calls add with each page.
func pages[T any](ctx context.Context, c *client, path string, q url.Values) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	var all []T
	for skip := 0; ; {
		q.Set("limit", "100")
		q.Set("skip", fmt.Sprint(skip))
		var page []T
		if err := c.do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all, nil
		}
		skip += len(page)
		if skip > 100000 {
			return nil, errors.New("jumpcloud: " + path + ": more than 100000 entries; refusing to page on")
		}
	}
}
