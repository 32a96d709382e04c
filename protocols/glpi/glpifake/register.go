package glpifake

import (
	"net/http"

	"github.com/omniagent/omniagent/protocols/glpi"
)

// RegisterConfig drives the REGISTER server side (§8.5 of the protocol note).
type RegisterConfig struct {
	Token string
	// Outcome of the first message: "" = token challenge, "registered" (simple registration),
	// "forbidden", "manual" (pending manual validation).
	Outcome string
	// S and K fix the server secret and the issued key (the note's vector); nil = random.
	S *[8]byte
	K *glpi.Block
	// WrongAgent builds the challenge for another agentid; BadFinal sends a final challenge
	// that does not prove the token; WrongToken uses another token for the challenge.
	WrongAgent bool
	BadFinal   bool
	WrongToken string
	// RejectAnswer answers "challenge failed" to the agent's challenge answer.
	RejectAnswer bool
}

type regState struct {
	s        map[string][8]byte
	Failures int        // "challenge":"failure" messages received
	Answers  []string   // challenge answers received
	Issued   glpi.Block // the key issued last
	Done     bool
}

// RegisterFailures returns how many "failure" challenges the agent sent.
func (s *Server) RegisterFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg.Failures
}

// RegisterIssued returns the key issued and whether a registration completed.
func (s *Server) RegisterIssued() (glpi.Block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg.Issued, s.reg.Done
}

// RegisterAnswers lists the challenge answers received (UUID form).
func (s *Server) RegisterAnswers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reg.Answers...)
}

func (s *Server) register(w http.ResponseWriter, ct, agentID string, msg map[string]any) {
	cfg := s.Register
	if s.reg.s == nil {
		s.reg.s = map[string][8]byte{}
	}
	tokenStr := cfg.Token
	if cfg.WrongToken != "" {
		tokenStr = cfg.WrongToken
	}
	token, err := glpi.ParseBlock(tokenStr)
	if err != nil && cfg.Outcome == "" {
		jsonError(w, ct, 500, errNoToken.Error())
		return
	}
	agent, err := glpi.ParseBlock(agentID)
	if err != nil {
		reply(w, ct, 400, map[string]any{"status": "error", "message": "bad agentid", "expiration": "1h"})
		return
	}
	if ch, ok := msg["challenge"].(string); ok {
		if ch == "failure" {
			s.reg.Failures++
			reply(w, ct, 200, map[string]any{"status": "error", "message": "challenge failed", "expiration": "1h"})
			return
		}
		s.reg.Answers = append(s.reg.Answers, ch)
		secret, ok := s.reg.s[agentID]
		c2, err := glpi.ParseBlock(ch)
		if !ok || err != nil {
			reply(w, ct, 200, map[string]any{"status": "error", "message": "challenge failed", "expiration": "1h"})
			return
		}
		p := glpi.Decrypt(token, c2)
		if [8]byte(p[:8]) != secret || cfg.RejectAnswer {
			reply(w, ct, 200, map[string]any{"status": "error", "message": "challenge failed", "expiration": "1h"})
			return
		}
		var fin glpi.Block
		copy(fin[:8], p[8:])
		copy(fin[8:], secret[:])
		if cfg.BadFinal {
			fin[0] ^= 0xff
		}
		var k glpi.Block
		if cfg.K != nil {
			k = *cfg.K
		} else {
			a, b := random8(), random8()
			copy(k[:8], a[:])
			copy(k[8:], b[:])
		}
		s.reg.Issued, s.reg.Done = k, !cfg.BadFinal
		reply(w, ct, 200, map[string]any{"status": "registered", "expiration": "30d",
			"challenge": glpi.Encrypt(token, fin).String(), "crypto": glpi.Encrypt(token, k).String()})
		return
	}
	for _, k := range []string{"deviceid", "port", "name", "version"} {
		if _, ok := msg[k]; !ok {
			reply(w, ct, 400, map[string]any{"status": "error", "message": "missing " + k, "expiration": "1h"})
			return
		}
	}
	switch cfg.Outcome {
	case "registered":
		s.reg.Done = true
		reply(w, ct, 200, map[string]any{"status": "registered", "expiration": "30d"})
		return
	case "forbidden":
		reply(w, ct, 200, map[string]any{"status": "error", "message": "forbidden", "expiration": "4h"})
		return
	case "manual":
		reply(w, ct, 200, map[string]any{"status": "pending", "needs": "manual-validation", "expiration": "1h"})
		return
	}
	sec := random8()
	if cfg.S != nil {
		sec = *cfg.S
	}
	s.reg.s[agentID] = sec
	var c1 glpi.Block
	copy(c1[:8], sec[:])
	copy(c1[8:], agent[8:])
	if cfg.WrongAgent {
		c1[15] ^= 0x01
	}
	reply(w, ct, 200, map[string]any{"status": "pending", "needs": "token-validation", "expiration": "1m",
		"challenge": glpi.Encrypt(token, c1).String()})
}
