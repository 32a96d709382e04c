package ocofake

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// PasswordRule is a password rotation rule, as the web console defines one for a computer
// group (here: for every computer, or one hostname).
type PasswordRule struct {
	Hostname        string // "" = every computer
	Username        string
	Alphabet        string
	Length          int
	ValidSeconds    int
	History         int    // stored passwords kept per user (0 = all)
	DefaultPassword string // sent as old_password to macOS computers with no stored password
}

// StoredPassword is one entry of the server's computer_password table.
type StoredPassword struct {
	Hostname string
	Username string
	Password string
	Created  time.Time
}

// Service is one service check result shown on the computer's page.
type Service struct {
	Status  int
	Name    string
	Metrics string
	Details string
	Updated time.Time
}

// AddPasswordRule adds a rotation rule.
func (s *Server) AddPasswordRule(r PasswordRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pwRules = append(s.pwRules, r)
}

// Passwords returns the stored passwords of a computer, newest first.
func (s *Server) Passwords(hostname string) []StoredPassword {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StoredPassword
	for _, p := range s.passwords {
		if strings.EqualFold(p.Hostname, hostname) {
			out = append(out, p)
		}
	}
	return out
}

// Services returns a computer's service checks, in the order first seen.
func (s *Server) Services(hostname string) []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.computers[strings.ToLower(hostname)]
	if !ok {
		return nil
	}
	return append([]Service(nil), c.Services...)
}

func (s *Server) rulesFor(c *Computer) []PasswordRule {
	var out []PasswordRule
	for _, r := range s.pwRules {
		if r.Hostname == "" || strings.EqualFold(r.Hostname, c.Hostname) {
			out = append(out, r)
		}
	}
	return out
}

// newestPassword is what selectAllComputerPasswordByComputerId returns first.
func (s *Server) newestPassword(c *Computer, username string) (StoredPassword, bool) {
	for _, p := range s.passwords {
		if strings.EqualFold(p.Hostname, c.Hostname) && p.Username == username {
			return p, true
		}
	}
	return StoredPassword{}, false
}

// passwordRequests is hello's update-passwords: a rule whose newest stored password is older
// than valid_seconds (or absent) asks for a new one; macOS computers also get the old one.
func (s *Server) passwordRequests(c *Computer) []any {
	out := []any{}
	now := s.opts.Now()
	for _, r := range s.rulesFor(c) {
		last, ok := s.newestPassword(c, r.Username)
		if ok && now.Sub(last.Created) <= time.Duration(r.ValidSeconds)*time.Second {
			continue
		}
		req := map[string]any{"username": r.Username, "alphabet": r.Alphabet, "length": s.num(r.Length)}
		if os, _ := c.Inventory["os"].(string); os == "macOS" {
			req["old_password"] = r.DefaultPassword
			if ok {
				req["old_password"] = last.Password
			}
		}
		out = append(out, req)
	}
	return out
}

// storePasswords is oco.agent.passwords of OCO 1.2.2: decrypt, then revoke (only a password
// stored less than 5 minutes ago) or store (only for a user some rule names).
func (s *Server) storePasswords(c *Computer, params map[string]any) (any, *httpError) {
	data, _ := params["data"].(map[string]any)
	list, ok := data["passwords"].([]any)
	if len(data) == 0 || !ok {
		return nil, fail(400, "Invalid JSON data")
	}
	success := false
	now := s.opts.Now()
	for _, item := range list {
		p, _ := item.(map[string]any)
		user, _ := p["username"].(string)
		if user == "" || empty(p["password"]) {
			continue
		}
		var plain string
		switch pw := p["password"].(type) {
		case map[string]any:
			iv, _ := pw["iv"].(string)
			ct, _ := pw["data"].(string)
			dec, ok := opensslDecrypt(ct, c.AgentKey, iv)
			if !ok {
				return nil, fail(400, "Invalid password data")
			}
			plain = dec
		case string:
			plain = pw
		default:
			b, _ := json.Marshal(pw)
			plain = string(b)
		}
		if revoke, _ := p["revoke"].(bool); revoke {
			kept := s.passwords[:0]
			for _, sp := range s.passwords {
				if strings.EqualFold(sp.Hostname, c.Hostname) && sp.Username == user && sp.Password == plain && now.Sub(sp.Created) < 5*time.Minute {
					success = true
					continue
				}
				kept = append(kept, sp)
			}
			s.passwords = kept
			continue
		}
		for _, r := range s.rulesFor(c) {
			if r.Username != user {
				continue
			}
			s.passwords = append([]StoredPassword{{Hostname: c.Hostname, Username: user, Password: plain, Created: now}}, s.passwords...)
			s.trimHistory(c, user, r.History)
			success = true
			break
		}
	}
	return map[string]any{"success": success, "params": []any{}}, nil
}

func (s *Server) trimHistory(c *Computer, user string, keep int) {
	if keep <= 0 {
		return
	}
	n := 0
	kept := s.passwords[:0]
	for _, sp := range s.passwords {
		if strings.EqualFold(sp.Hostname, c.Hostname) && sp.Username == user {
			n++
			if n > keep {
				continue
			}
		}
		kept = append(kept, sp)
	}
	s.passwords = kept
}

// empty is PHP's empty() for a decoded JSON value.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "0"
	case bool:
		return !x
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// opensslDecrypt is PHP's openssl_decrypt($data, 'aes-256-cbc', $key, 0, base64_decode($iv)):
// the data is base64, the key NUL-padded (or cut) to 32 bytes, PKCS#7 padding checked.
func opensslDecrypt(data, key, ivB64 string) (string, bool) {
	iv, err := base64.StdEncoding.DecodeString(ivB64)
	if err != nil || len(iv) != aes.BlockSize {
		return "", false
	}
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", false
	}
	k := make([]byte, 32)
	copy(k, key)
	block, err := aes.NewCipher(k)
	if err != nil {
		return "", false
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", false
	}
	plain := out[:len(out)-pad]
	if len(plain) == 0 {
		return "", false // PHP: "" is falsy, and the server answers Invalid password data
	}
	return string(plain), true
}

// upsertServices is hello's service handling: entries without a name or a numeric status are
// skipped; metrics default to "-", details to "".
func (s *Server) upsertServices(c *Computer, raw any) {
	list, _ := raw.([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		name, _ := m["name"].(string)
		st, ok := number(m["status"])
		if str, isStr := m["status"].(string); isStr { // PHP's is_numeric takes "2" too
			f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
			st, ok = f, err == nil
		}
		if name == "" || !ok {
			continue
		}
		metrics, hasMetrics := m["metrics"].(string)
		if !hasMetrics {
			metrics = "-"
		}
		details, _ := m["details"].(string)
		svc := Service{Status: int(st), Name: name, Metrics: metrics, Details: details, Updated: s.opts.Now()}
		replaced := false
		for i := range c.Services {
			if c.Services[i].Name == name {
				c.Services[i] = svc
				replaced = true
				break
			}
		}
		if !replaced {
			c.Services = append(c.Services, svc)
		}
	}
}
