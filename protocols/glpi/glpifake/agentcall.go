package glpifake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The server side of GLPI's "Agent status" and "Request inventory" buttons (GLPI's
// Agent::requestAgent): GLPI calls GET <endpoint> on http://<address>:<port>/ then https for
// each address it knows of the computer, and keeps the first answer that is not an error. The
// port is the httpd-port of the agent's last CONTACT (62354 when none).

// DefaultAgentPort is GLPI's Agent::DEFAULT_PORT.
const DefaultAgentPort = 62354

// AgentCall is how the fake reaches an agent.
type AgentCall struct {
	// Addresses GLPI knows for the computer (host names or IPs; IPv6 in brackets).
	Addresses []string
	// From is the local address GLPI calls from ("127.0.0.2" to play an untrusted host);
	// empty: any.
	From string
	// Timeout bounds each attempt; default 5 s.
	Timeout time.Duration
}

// AgentAttempt is one call the fake made to an agent.
type AgentAttempt struct {
	URL  string
	Code int   // HTTP status, 0 when no answer
	Err  error // transport error
}

// AgentAttempts returns the calls made to agents so far.
func (s *Server) AgentAttempts() []AgentAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AgentAttempt(nil), s.attempts...)
}

func (s *Server) attempt(a AgentAttempt) {
	s.mu.Lock()
	s.attempts = append(s.attempts, a)
	s.mu.Unlock()
}

// AgentPort is the port GLPI stored for deviceid from its CONTACT.
func (s *Server) AgentPort(deviceid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.Contacts) - 1; i >= 0; i-- {
		c := s.Contacts[i]
		if d, _ := c["deviceid"].(string); d != deviceid {
			continue
		}
		if p, ok := c["httpd-port"].(float64); ok && p > 0 && p < 65536 {
			return int(p)
		}
		break
	}
	return DefaultAgentPort
}

// RequestAgent calls endpoint ("status" or "now") as GLPI does and returns the first
// successful answer; when none succeeds, the last error, as GLPI throws it: a refusal over
// http followed by no answer over https ends in the https error (GLPI then shows "Unknown").
func (s *Server) RequestAgent(ctx context.Context, deviceid, endpoint string, c AgentCall) (int, string, error) {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	d := &net.Dialer{Timeout: c.Timeout}
	if c.From != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(c.From)}
	}
	client := &http.Client{
		Timeout: c.Timeout,
		Transport: &http.Transport{
			DialContext:     d.DialContext,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // GLPI does not check the agent's certificate
			Proxy:           nil,
		},
	}
	defer client.CloseIdleConnections()
	port := s.AgentPort(deviceid)
	var last error = errors.New("no address to call")
	for _, scheme := range []string{"http", "https"} {
		for _, a := range c.Addresses {
			u := fmt.Sprintf("%s://%s:%d/%s", scheme, a, port, endpoint)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				last = err
				continue
			}
			resp, err := client.Do(req)
			if err != nil {
				s.attempt(AgentAttempt{URL: u, Err: err})
				last = err
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			s.attempt(AgentAttempt{URL: u, Code: resp.StatusCode})
			if resp.StatusCode >= 400 {
				last = &AgentError{URL: u, Code: resp.StatusCode, Body: string(body)}
				continue
			}
			return resp.StatusCode, string(body), nil
		}
	}
	return 0, "", last
}

// AgentError is an agent's HTTP error answer (Guzzle's ClientException/ServerException).
type AgentError struct {
	URL  string
	Code int
	Body string
}

func (e *AgentError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Code) }

// RequestStatus is GLPI's "Agent status" button: the answer shown, as GLPI shows it.
func (s *Server) RequestStatus(ctx context.Context, deviceid string, c AgentCall) string {
	_, body, err := s.RequestAgent(ctx, deviceid, "status", c)
	var ae *AgentError
	switch {
	case errors.As(err, &ae) && ae.Code < 500:
		return "Not allowed"
	case err != nil:
		return "Unknown"
	}
	return strings.Replace(body, "status: ", "", 1)
}

// RequestInventory is GLPI's "Request inventory" button: "Requested at …", "Not allowed" (the
// agent refused, 4xx) or "Unknown" (no answer).
func (s *Server) RequestInventory(ctx context.Context, deviceid string, c AgentCall) string {
	_, _, err := s.RequestAgent(ctx, deviceid, "now", c)
	var ae *AgentError
	switch {
	case errors.As(err, &ae) && ae.Code < 500:
		return "Not allowed"
	case err != nil:
		return "Unknown"
	}
	return "Requested at " + time.Now().Format("2006-01-02 15:04:05")
}
