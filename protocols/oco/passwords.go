package oco

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/omniagent/omniagent/localuser"
)

// maxPasswordLength bounds what a server may ask for.
const maxPasswordLength = 512

// passwordRule is one entry of hello's update-passwords.
type passwordRule struct {
	Username string
	Alphabet string
	Length   int
	Old      string // macOS: the current password, as the server knows it
}

func parsePasswordRules(raw json.RawMessage) ([]passwordRule, error) {
	if rawIsNull(raw) {
		return nil, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		// PHP sends an empty list as [] but an empty object as {} in places: tolerate {}.
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil && len(obj) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("update-passwords is not a list: %w", err)
	}
	out := make([]passwordRule, 0, len(list))
	for _, m := range list {
		var r passwordRule
		r.Username, _ = looseString(m["username"])
		r.Alphabet, _ = looseString(m["alphabet"])
		n, _ := looseInt(m["length"])
		r.Length = int(n)
		r.Old, _ = looseString(m["old_password"])
		out = append(out, r)
	}
	return out, nil
}

func (r passwordRule) check() error {
	switch {
	case r.Username == "":
		return errors.New("the rule names no user")
	case r.Alphabet == "" || !utf8.ValidString(r.Alphabet):
		return errors.New("the rule's alphabet is empty or not UTF-8")
	case r.Length < 1 || r.Length > maxPasswordLength:
		return fmt.Errorf("the rule's length %d is outside 1..%d", r.Length, maxPasswordLength)
	}
	return nil
}

// generatePassword draws length characters uniformly from alphabet with the system's
// cryptographic random source (rand.Int rejects out-of-range draws: no modulo bias).
func generatePassword(alphabet string, length int) ([]byte, error) {
	symbols := []rune(alphabet)
	n := big.NewInt(int64(len(symbols)))
	out := make([]byte, 0, length*utf8.UTFMax)
	for range length {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			localuser.Zero(out)
			return nil, fmt.Errorf("password generation: %w", err)
		}
		out = utf8.AppendRune(out, symbols[i.Int64()])
	}
	return out, nil
}

// sealedPassword is the server's encrypted form: AES-256-CBC, PKCS#7, the key being the agent
// key NUL-padded to 32 bytes, both fields base64 (PHP's openssl_decrypt with options 0).
type sealedPassword struct {
	IV   string `json:"iv"`
	Data string `json:"data"`
}

func sealPassword(agentKey string, pw []byte) (sealedPassword, error) {
	key := make([]byte, 32)
	copy(key, agentKey)
	defer localuser.Zero(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealedPassword{}, fmt.Errorf("password encryption: %w", err)
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return sealedPassword{}, fmt.Errorf("password encryption: iv: %w", err)
	}
	pad := aes.BlockSize - len(pw)%aes.BlockSize
	buf := make([]byte, len(pw)+pad)
	defer localuser.Zero(buf)
	copy(buf, pw)
	for i := len(pw); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	ct := make([]byte, len(buf))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, buf)
	return sealedPassword{IV: base64.StdEncoding.EncodeToString(iv), Data: base64.StdEncoding.EncodeToString(ct)}, nil
}

type passwordEntry struct {
	Username string         `json:"username"`
	Password sealedPassword `json:"password"`
	Revoke   bool           `json:"revoke,omitempty"`
}

// rotation is one password on its way: generated, stored on the server, set locally.
type rotation struct {
	rule passwordRule
	pw   []byte
}

// errSimulatedCrash stops a rotation between its server and local steps (tests only).
var errSimulatedCrash = errors.New("simulated agent crash between storing the password on the server and changing the account")

// rotatePasswords carries out OCO's password rotation in the server's order: store the new
// password on the server first, change the account only once the server has it, and revoke
// it on the server when the account could not be changed. It returns a summary for the
// cycle ("" when nothing was asked).
func (a *Adapter) rotatePasswords(ctx context.Context, raw json.RawMessage) (string, error) {
	rules, err := parsePasswordRules(raw)
	if err != nil {
		return "", err
	}
	if len(rules) == 0 && len(a.st.PendingRotations) == 0 {
		return "", nil
	}
	if !a.opts.PasswordRotation {
		users := make([]string, 0, len(rules))
		for _, r := range rules {
			users = append(users, r.Username)
		}
		a.log.Warn("the server asks to rotate local passwords; password_rotation is off for this server, so nothing is changed", "users", users)
		return fmt.Sprintf("password rotation for %d account(s) refused (password_rotation = false)", len(rules)), nil
	}
	rules = a.withInterrupted(rules)
	var todo []rotation
	defer func() {
		for _, r := range todo {
			localuser.Zero(r.pw)
		}
	}()
	refused := 0
	for _, r := range rules {
		if err := r.check(); err != nil {
			a.log.Warn("password rotation rule refused", "user", r.Username, "err", err)
			refused++
			continue
		}
		if len(a.opts.PasswordRotationUsers) > 0 && !slices.Contains(a.opts.PasswordRotationUsers, r.Username) {
			a.log.Warn("password rotation refused: the user is not in password_rotation_users", "user", r.Username, "allowed", a.opts.PasswordRotationUsers)
			refused++
			continue
		}
		pw, err := generatePassword(r.Alphabet, r.Length)
		if err != nil {
			return "", err
		}
		todo = append(todo, rotation{rule: r, pw: pw})
	}
	if len(todo) == 0 {
		a.st.PendingRotations = nil
		return fmt.Sprintf("password rotation: %d refused", refused), a.save()
	}

	// The marker goes to disk before the server can hold a password the account lacks.
	a.st.PendingRotations = a.st.PendingRotations[:0]
	for _, r := range todo {
		a.st.PendingRotations = append(a.st.PendingRotations, pendingRotation{Username: r.rule.Username, Alphabet: r.rule.Alphabet, Length: r.rule.Length, Started: a.now().UTC()})
	}
	if err := a.save(); err != nil {
		return "", err
	}
	entries := make([]passwordEntry, 0, len(todo))
	for _, r := range todo {
		sealed, err := sealPassword(a.signingKey(), r.pw)
		if err != nil {
			return "", err
		}
		entries = append(entries, passwordEntry{Username: r.rule.Username, Password: sealed})
	}
	if _, err := a.call(ctx, MethodPasswords, map[string]any{"passwords": entries}); err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			// A refusal stored nothing: the accounts keep their passwords and no retry is owed.
			a.st.PendingRotations = nil
			_ = a.save()
		}
		return "", fmt.Errorf("password rotation: the server did not store the new passwords, no account was changed: %w", err)
	}
	if a.crashAfterStore != nil && a.crashAfterStore() {
		return "", errSimulatedCrash
	}

	rotated, failed := 0, 0
	for _, r := range todo {
		err := a.setPassword(ctx, localuser.Change{Username: r.rule.Username, Password: r.pw, Old: []byte(r.rule.Old)})
		if err == nil {
			rotated++
			a.log.Info("local password rotated and stored on the server", "user", r.rule.Username)
			continue
		}
		failed++
		a.log.Warn("could not change the local password; revoking the new one on the server", "user", r.rule.Username, "err", err)
		sealed, serr := sealPassword(a.signingKey(), r.pw)
		if serr == nil {
			_, serr = a.call(ctx, MethodPasswords, map[string]any{"passwords": []passwordEntry{{Username: r.rule.Username, Password: sealed, Revoke: true}}})
		}
		if serr != nil {
			a.log.Error("could not revoke the password on the server: it shows a password the account does not have", "user", r.rule.Username, "err", serr)
		}
	}
	a.st.PendingRotations = nil
	if err := a.save(); err != nil {
		return "", err
	}
	s := fmt.Sprintf("passwords: %d rotated", rotated)
	if failed > 0 {
		s += fmt.Sprintf(", %d failed and revoked", failed)
	}
	if refused > 0 {
		s += fmt.Sprintf(", %d refused", refused)
	}
	return s, nil
}

// withInterrupted adds the rotations a stopped agent left half done (stored on the server,
// account unchanged): rotating again makes the server and the account agree.
func (a *Adapter) withInterrupted(rules []passwordRule) []passwordRule {
	for _, p := range a.st.PendingRotations {
		if slices.ContainsFunc(rules, func(r passwordRule) bool { return r.Username == p.Username }) {
			continue
		}
		a.log.Warn("a password rotation was interrupted after the server stored the new password; rotating this account again", "user", p.Username, "started", p.Started)
		rules = append(rules, passwordRule{Username: p.Username, Alphabet: p.Alphabet, Length: p.Length})
	}
	return rules
}
