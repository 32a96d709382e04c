package glpi

import (
	"context"
	"crypto/aes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Block is a 128-bit value as REGISTER carries it: 32 hex digits in UUID layout. Version and
// variant nibbles are arbitrary (ciphertexts), so it is parsed as plain hex.
type Block [16]byte

// parseBlock reads "8-4-4-4-12" (or 32 bare) hex digits.
func parseBlock(s string) (Block, error) {
	var b Block
	h := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(h) != 32 {
		return b, fmt.Errorf("%q is not a 128-bit UUID-formatted value", s)
	}
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, fmt.Errorf("%q is not a 128-bit UUID-formatted value: %w", s, err)
	}
	return b, nil
}

// ParseBlock is parseBlock for the fake server.
func ParseBlock(s string) (Block, error) { return parseBlock(s) }

// String formats a block as 8-4-4-4-12 lowercase hex.
func (b Block) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Encrypt is one raw AES-128 block encryption (the draft fixes no mode: one block, no IV).
func Encrypt(key, in Block) Block {
	c, _ := aes.NewCipher(key[:]) // a 16-byte key never fails
	var out Block
	c.Encrypt(out[:], in[:])
	return out
}

// Decrypt is the inverse of Encrypt.
func Decrypt(key, in Block) Block {
	c, _ := aes.NewCipher(key[:])
	var out Block
	c.Decrypt(out[:], in[:])
	return out
}

// Register statuses.
const (
	regRegistered = "registered"
	regError      = "error"
	regPending    = "pending"
)

// errRegisterHold is returned while the server forbids any message (REGISTER error status).
var errRegisterHold = errors.New("REGISTER: the server asked for no message until its expiration")

// maybeRegister runs REGISTER when due. It returns an error only when the agent must not talk
// to the server now (error status, failed challenge).
func (a *Adapter) maybeRegister(ctx context.Context) error {
	now := a.now()
	r := &a.st.Register
	if r.Status == regError && now.Before(r.Until) {
		return fmt.Errorf("%w (%s)", errRegisterHold, r.Until.Format(time.RFC3339))
	}
	if r.Status == regRegistered && now.Before(r.Renew) {
		return nil
	}
	if r.Status == regPending && now.Before(r.Until) {
		return nil // manual/server validation: resend the first message at expiration
	}
	return a.register(ctx, randomHalf)
}

// randomHalf returns 8 random bytes (the agent secret G).
func randomHalf() [8]byte {
	var g [8]byte
	_, _ = rand.Read(g[:])
	return g
}

// register is the whole exchange; rnd gives the agent secret (fixed in tests).
func (a *Adapter) register(ctx context.Context, rnd func() [8]byte) error {
	now := a.now()
	r := &a.st.Register
	token, err := parseBlock(a.opts.Token)
	if err != nil {
		return fmt.Errorf("REGISTER: token: %w", err)
	}
	agent, err := parseBlock(a.st.AgentID)
	if err != nil {
		return fmt.Errorf("REGISTER: agentid: %w", err)
	}
	first := map[string]any{"action": "register", "deviceid": a.st.DeviceID, "port": 0, "name": "omniagent",
		"version": firstNonEmpty(a.deps.Identity.AgentVersion, "0.0.0")}
	if a.opts.Tag != "" {
		first["tag"] = a.opts.Tag
	}
	ans, err := a.postJSON(ctx, first, a.encoding())
	if err != nil {
		var se *errServer
		if errors.As(err, &se) && se.HTTP == 501 {
			a.log.Info("the server does not implement REGISTER; continuing with CONTACT")
			r.Unsupported = true
			return nil
		}
		if errors.As(err, &se) && len(se.Expiration) > 0 {
			return a.registerError(se, now)
		}
		// Unanswered: retry at half of what remains of a registration, else go on unregistered.
		if r.Status == regRegistered && now.Before(r.Until) {
			r.Renew = now.Add(r.Until.Sub(now) / 2)
			a.log.Warn("REGISTER renewal failed; keeping the registration", "err", err, "retry_at", r.Renew)
			return nil
		}
		return fmt.Errorf("REGISTER: %w", err)
	}
	switch ans.Status {
	case regRegistered:
		return a.registered(ans, now, nil)
	case regPending:
		exp, _ := a.serverDelay(ans.Expiration)
		if ans.Needs != "token-validation" {
			r.Status, r.Until = regPending, now.Add(orDefault(exp, time.Hour))
			a.log.Info("REGISTER pending", "needs", ans.Needs, "until", r.Until)
			return nil
		}
		return a.answerChallenge(ctx, token, agent, ans, rnd)
	}
	return fmt.Errorf("REGISTER: unexpected status %q", ans.Status)
}

// answerChallenge is steps 2 to 4 of the crypto exchange.
func (a *Adapter) answerChallenge(ctx context.Context, token, agent Block, ans *answer, rnd func() [8]byte) error {
	now := a.now()
	c1, err := parseBlock(ans.Challenge)
	if err != nil {
		a.sendFailure(ctx)
		return fmt.Errorf("REGISTER: server challenge: %w", err)
	}
	p := Decrypt(token, c1)
	if subtle.ConstantTimeCompare(p[8:], agent[8:]) != 1 {
		a.sendFailure(ctx)
		a.st.Register.Status, a.st.Register.Until = regError, now.Add(time.Hour)
		return errors.New("REGISTER: the server challenge is not for this agent (wrong token?); answered failure")
	}
	var plain Block
	copy(plain[:8], p[:8])
	g := rnd()
	copy(plain[8:], g[:])
	c2 := Encrypt(token, plain)
	for try := 0; ; try++ {
		fin, err := a.postJSON(ctx, map[string]any{"action": "register", "challenge": c2.String()}, a.encoding())
		if err != nil {
			var se *errServer
			if errors.As(err, &se) && len(se.Expiration) > 0 {
				return a.registerError(se, now)
			}
			return fmt.Errorf("REGISTER challenge: %w", err)
		}
		switch fin.Status {
		case regPending: // a proxy: resend the same challenge after expiration
			exp, _ := a.serverDelay(fin.Expiration)
			if try >= 3 {
				return errors.New("REGISTER: challenge still pending after 3 tries")
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(orDefault(exp, time.Minute), 5*time.Minute)):
			}
			continue
		case regRegistered:
			q, err := parseBlock(fin.Challenge)
			if err != nil {
				a.sendFailure(ctx)
				return fmt.Errorf("REGISTER: final challenge: %w", err)
			}
			qp := Decrypt(token, q)
			if subtle.ConstantTimeCompare(qp[:8], g[:]) != 1 || subtle.ConstantTimeCompare(qp[8:], p[:8]) != 1 {
				a.sendFailure(ctx)
				a.st.Register.Status, a.st.Register.Until = regError, now.Add(time.Hour)
				return errors.New("REGISTER: the server's final challenge does not prove the token; answered failure")
			}
			return a.registered(fin, now, &token)
		default:
			return fmt.Errorf("REGISTER challenge: unexpected status %q", fin.Status)
		}
	}
}

func (a *Adapter) sendFailure(ctx context.Context) {
	if _, err := a.postJSON(ctx, map[string]any{"action": "register", "challenge": "failure"}, a.encoding()); err != nil {
		a.log.Debug("REGISTER failure message", "err", err)
	}
}

func (a *Adapter) registered(ans *answer, now time.Time, token *Block) error {
	r := &a.st.Register
	exp, _ := a.serverDelay(ans.Expiration)
	exp = orDefault(exp, 30*24*time.Hour)
	r.Status, r.Until, r.Renew = regRegistered, now.Add(exp), now.Add(exp/2)
	if token != nil && ans.Crypto != "" {
		kb, err := parseBlock(ans.Crypto)
		if err != nil {
			return fmt.Errorf("REGISTER: crypto: %w", err)
		}
		k := Decrypt(*token, kb)
		r.Key = hex.EncodeToString(k[:])
	}
	a.log.Info("registered with the server", "until", r.Until, "key", r.Key != "")
	return nil
}

func (a *Adapter) registerError(se *errServer, now time.Time) error {
	r := &a.st.Register
	msg := se.Message
	exp, _ := a.serverDelay(se.Expiration)
	r.Status, r.Until = regError, now.Add(orDefault(exp, time.Hour))
	return fmt.Errorf("%w: %q until %s", errRegisterHold, msg, r.Until.Format(time.RFC3339))
}

// RegisterKey returns the key received at registration (hex), for tests and status.
func (a *Adapter) RegisterKey() string { return a.st.Register.Key }

// RegisterStatus returns the REGISTER status.
func (a *Adapter) RegisterStatus() string { return a.st.Register.Status }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
