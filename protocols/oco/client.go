package oco

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ServerError is a refusal by the server: OCO answers errors as plain text, in its own words.
type ServerError struct {
	Method string
	Mode   string
	Status int
	Body   string
}

func (e *ServerError) Error() string {
	body := e.Body
	if body == "" {
		body = http.StatusText(e.Status)
	}
	msg := fmt.Sprintf("OCO server refused %s (%s protocol): HTTP %d %q", e.Method, e.Mode, e.Status, body)
	if h := e.hint(); h != "" {
		msg += ": " + h
	}
	return msg
}

func (e *ServerError) hint() string {
	switch {
	case e.Mode == ModeLegacy && (e.Body == "Signature header missing" || e.Body == "Invalid agent signature" || e.Body == "Agent timestamp too old"):
		return "this server speaks the current protocol (OCO ≥ 1.1.7) and wants signed requests: set oco_protocol = \"hmac\""
	case e.Body == "Signature header missing":
		return "the server did not see the x-oco-agent-signature header; a server run under PHP-CGI/FPM re-capitalises header names and rejects every signed request (server deployment limitation), or an older server expects oco_protocol = \"legacy\""
	case e.Body == "Invalid agent signature":
		return "the agent key does not match: the registration key is wrong, or the server issued another key for this hostname (a renamed or reinstalled computer must be re-registered on the server)"
	case e.Body == "Agent timestamp too old":
		return "the server saw a newer timestamp from this computer (another agent with the same hostname, or a clock that went back)"
	case e.Body == "Client self-registration is disabled" || e.Body == "Client Self-Registration Disabled":
		return "create the computer on the server or enable agent self-registration"
	case e.Body == "Agent key mismatch" || e.Body == "Agent registration key mismatch":
		return "the server checks this computer in legacy (plaintext key) mode: its stored agent version is below 1.1.7 or the key is wrong"
	case e.Body == "Computer not found" || e.Body == "Computer Not Found":
		return "the server does not know this hostname"
	case e.Status >= 500:
		return "server-side exception (a duplicate uid or an invalid inventory value can cause it)"
	}
	return ""
}

// legacySignal says whether a refusal looks like an OCO ≤ 1.1.6 server.
func (e *ServerError) legacySignal() bool {
	switch e.Body {
	case "Client Not Authorized", "Client Self-Registration Disabled", "Computer Not Found", "Parameter Mismatch", "":
		return e.Status == 401 || e.Status == 403 || e.Status == 404 || (e.Status == 400 && e.Body == "Parameter Mismatch")
	}
	return false
}

// errLegacyAnswer marks a 200 answer with neither signature nor timestamp (OCO ≤ 1.1.6).
var errLegacyAnswer = errors.New("the answer carries neither x-oco-server-signature nor result.timestamp (an OCO server ≤ 1.1.6 answers like this; set oco_protocol = \"legacy\" or \"auto\" for it)")

// ErrServerKeyChanged is returned when the server presents a key other than the pinned one.
var ErrServerKeyChanged = errors.New("the server presented a server key different from the pinned one; refusing to talk to it (the pin is never replaced: if the server was really reinstalled, remove this server's state file)")

// signingKey is the individual key, or the registration key until one was issued.
func (a *Adapter) signingKey() string {
	if a.st.AgentKey != "" {
		return a.st.AgentKey
	}
	return a.opts.RegistrationKey
}

// newRequest builds one signed request; the timestamp is persisted before it is used.
func (a *Adapter) newRequest(ctx context.Context, httpMethod, method string, data any, packageID any) (*http.Request, error) {
	env := request{JSONRPC: "2.0", ID: 1, Method: method, Params: requestParams{
		UID: a.uid, Hostname: a.hostname, Data: data, PackageID: packageID,
	}}
	mode := a.mode()
	if mode == ModeLegacy {
		env.Params.AgentKey = a.signingKey()
	} else {
		ts := nextTimestamp(float64(a.now().UnixNano())/1e9, a.st.LastRequestTS)
		a.st.LastRequestTS = ts
		if err := a.save(); err != nil {
			return nil, err
		}
		t := tsNumber(ts)
		env.Params.Timestamp = &t
	}
	body, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, a.st.APIURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", method, err)
	}
	// Assigned directly: Header.Set would canonicalise the names and the server would not
	// find the signature (it looks it up by its exact lower-case name).
	req.Header["Content-Type"] = []string{"application/json"}
	if mode != ModeLegacy {
		req.Header[HeaderAgentSignature] = []string{Sign(a.signingKey(), body)}
	}
	return req, nil
}

// call sends one JSON-RPC method and returns the verified answer's params.
func (a *Adapter) call(ctx context.Context, method string, data any) (map[string]json.RawMessage, error) {
	a.callMu.Lock()
	defer a.callMu.Unlock()
	req, err := a.newRequest(ctx, http.MethodPost, method, data, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, a.serverError(method, resp.StatusCode, body)
	}
	return a.verify(method, resp, body)
}

func (a *Adapter) serverError(method string, status int, body []byte) error {
	text := strings.TrimSpace(strings.ToValidUTF8(string(body), "?"))
	if len(text) > 512 {
		cut := 512
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	e := &ServerError{Method: method, Mode: a.mode(), Status: status, Body: text}
	a.st.LastError = e.Error()
	_ = a.save()
	a.log.Error("OCO server refused the request", "method", method, "oco_protocol", e.Mode, "status", status, "server_said", text, "hint", e.hint())
	return e
}

// verify checks a 200 answer (signature, timestamp or echoed server key), pins and stores keys.
func (a *Adapter) verify(method string, resp *http.Response, body []byte) (map[string]json.RawMessage, error) {
	var ans answer
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("%s: the answer is not JSON: %w", method, err)
	}
	if !rawIsNull(ans.Error) {
		return nil, fmt.Errorf("%s: the server answered with an error: %s", method, strings.TrimSpace(string(ans.Error)))
	}
	params, err := paramsMap(ans.Result.Params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	offered, _ := looseString(params["server-key"])
	pinned := a.st.ServerKey
	if pinned != "" && offered != "" && offered != pinned {
		a.log.Error("SERVER KEY CHANGED: the OCO server presented a different server key; the pinned key is kept and the server is refused", "method", method, "url", a.st.APIURL)
		return nil, fmt.Errorf("%s: %w", method, ErrServerKeyChanged)
	}
	if a.mode() == ModeLegacy {
		if offered == "" {
			return nil, fmt.Errorf("%s: legacy answer without params.server-key: the server did not prove its identity", method)
		}
	} else {
		sig := resp.Header.Get(HeaderServerSignature)
		ts, hasTS := looseFloat(ans.Result.Timestamp)
		if sig == "" && !hasTS {
			return nil, fmt.Errorf("%s: %w", method, errLegacyAnswer)
		}
		if sig == "" {
			return nil, fmt.Errorf("%s: the answer is not signed (no %s header); refusing it", method, HeaderServerSignature)
		}
		key := pinned
		if key == "" {
			key = offered
		}
		if key == "" {
			return nil, fmt.Errorf("%s: cannot verify the answer: no server key is pinned and the server offered none", method)
		}
		if !VerifySignature(key, body, sig) {
			return nil, fmt.Errorf("%s: the answer's %s does not match the server key; refusing it (tampered answer or wrong pinned key)", method, HeaderServerSignature)
		}
		switch {
		case !hasTS && a.st.LastServerTS > 0:
			if a.opts.StrictServerTimestamp {
				return nil, fmt.Errorf("%s: signed answer without result.timestamp after timestamped ones; refusing it as a possible replay", method)
			}
			a.log.Warn("answer without result.timestamp accepted (strict_server_timestamp = false)", "method", method)
		case hasTS && ts <= a.st.LastServerTS:
			if a.opts.StrictServerTimestamp {
				return nil, fmt.Errorf("%s: answer timestamp %.6f is not newer than the last accepted %.6f: replayed answer refused (set strict_server_timestamp = false if the server clock jumped back)", method, ts, a.st.LastServerTS)
			}
			a.log.Warn("answer timestamp went back; accepted (strict_server_timestamp = false)", "method", method, "timestamp", ts, "last", a.st.LastServerTS)
			a.st.LastServerTS = ts
		case hasTS:
			a.st.LastServerTS = ts
		}
		if !a.st.SignedSeen {
			a.st.SignedSeen = true
			if a.opts.OCOProtocol == ModeAuto && a.st.Mode != ModeHMAC {
				a.setMode(ModeHMAC, "auto: the server signs its answers (OCO ≥ 1.1.7)")
			}
		}
	}
	if pinned == "" {
		a.st.ServerKey = offered
		a.log.Info("server key pinned (trust on first use)", "url", a.st.APIURL)
	}
	if ak, ok := looseString(params["agent-key"]); ok && ak != "" && ak != a.st.AgentKey {
		a.st.AgentKey = ak
		a.st.KeyHostname = a.hostname
		a.log.Info("the server issued this computer's agent key; the registration key is no longer used", "hostname", a.hostname)
	}
	a.st.LastError = ""
	// Keys must be on disk before the next request: a lost agent key locks the agent out.
	if err := a.save(); err != nil {
		return nil, err
	}
	return params, nil
}
