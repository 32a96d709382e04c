package oco

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Methods.
const (
	MethodHello     = "oco.agent.hello"
	MethodUpdate    = "oco.agent.update"
	MethodJobState  = "oco.agent.update_job_state"
	MethodDownload  = "oco.agent.download"
	MethodEvents    = "oco.agent.events"
	MethodPasswords = "oco.agent.passwords"
)

// Header names, exactly as the server looks them up (case-sensitive on the PHP side).
const (
	HeaderAgentSignature  = "x-oco-agent-signature"
	HeaderServerSignature = "x-oco-server-signature"
)

// Job states and return codes (server Job model).
const (
	StateWaiting   = 0
	StateDownload  = 1
	StateExecuting = 2
	StateSucceeded = 3
	StateFailed    = -1
	RCAgentError   = -9999
	RCAborted      = -8888
)

// Sign is hex(HMAC-SHA256(key, body)), the value of both signature headers.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature compares a hex signature with the expected one in constant time.
func VerifySignature(key string, body []byte, sig string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// request is the JSON-RPC envelope; params fields appear in this order on the wire.
type request struct {
	JSONRPC string        `json:"jsonrpc"`
	ID      int           `json:"id"`
	Method  string        `json:"method"`
	Params  requestParams `json:"params"`
}

type requestParams struct {
	AgentKey  string    `json:"agent-key,omitempty"` // legacy only
	UID       string    `json:"uid,omitempty"`
	Hostname  string    `json:"hostname"`
	Timestamp *tsNumber `json:"timestamp,omitempty"`
	PackageID any       `json:"package-id,omitempty"`
	Data      any       `json:"data"`
}

// tsNumber writes a timestamp with at most 4 decimals, as the reference does.
type tsNumber float64

func (t tsNumber) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(t), 'f', -1, 64)), nil
}

// nextTimestamp is max(now, last + 0.001), rounded to 4 decimals, strictly above last.
func nextTimestamp(now, last float64) float64 {
	ts := math.Round(now*1e4) / 1e4
	if ts <= last {
		ts = math.Round((last+0.001)*1e4) / 1e4
		if ts <= last {
			// last (read from the state file) is so large that 0.001 is below its precision:
			// the next representable number still goes up, where adding 0.0001 would loop.
			ts = math.Nextafter(last, math.Inf(1))
		}
	}
	return ts
}

// answer is a decoded 200 JSON answer; members are kept raw because PHP typing is loose.
type answer struct {
	Error  json.RawMessage `json:"error"`
	Result struct {
		Success   json.RawMessage `json:"success"`
		Params    json.RawMessage `json:"params"`
		Timestamp json.RawMessage `json:"timestamp"`
	} `json:"result"`
}

// paramsMap decodes result.params, which PHP sends as [] when empty.
func paramsMap(raw json.RawMessage) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" {
		return map[string]json.RawMessage{}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("result.params is neither an object nor []: %w", err)
	}
	return m, nil
}

// Loose readers: numbers may arrive as strings on older PHP, booleans as 0/1.

func rawIsNull(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	return len(r) == 0 || string(r) == "null"
}

func looseInt(r json.RawMessage) (int64, bool) {
	if rawIsNull(r) {
		return 0, false
	}
	var v any
	if json.Unmarshal(r, &v) != nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		// Out of range the conversion is undefined: 1e300 must not become some other number.
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func looseFloat(r json.RawMessage) (float64, bool) {
	if rawIsNull(r) {
		return 0, false
	}
	var v any
	if json.Unmarshal(r, &v) != nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		// ParseFloat reads "NaN" and "Inf": a NaN timestamp would disable the replay check and
		// make the state file unwritable (JSON has no NaN), so only finite numbers count.
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func looseString(r json.RawMessage) (string, bool) {
	if rawIsNull(r) {
		return "", false
	}
	var v any
	if json.Unmarshal(r, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func looseBool(r json.RawMessage) bool {
	if n, ok := looseInt(r); ok {
		return n != 0
	}
	s, _ := looseString(r)
	return s == "true"
}
