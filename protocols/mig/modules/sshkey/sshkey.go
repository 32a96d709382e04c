// Package sshkey is MIG's sshkey module: it finds SSH private keys, public keys and
// authorized_keys files under the given paths (default: the home directories) and reports
// their fingerprints, in MIG's element format.
//
// Candidates are found as MIG did, with the file module: files under 1 MiB whose content has a
// key header line (the regex here also knows the OpenSSH, EC, Ed25519 and ECDSA formats MIG's
// RSA/DSA-only regex missed), plus files named authorized_keys or authorized_keys2. An encrypted
// private key in OpenSSH format carries its public key in clear: we report its fingerprints
// (MIG left them empty). Keys are parsed by keyparse, which gives the fingerprints
// golang.org/x/crypto/ssh gave without linking it into the agent.
package sshkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/omniagent/omniagent/limitread"
	"github.com/omniagent/omniagent/protocols/mig/modules"
	"github.com/omniagent/omniagent/protocols/mig/modules/file"
	"github.com/omniagent/omniagent/protocols/mig/modules/sshkey/keyparse"
)

// Key types of KeyInfo.Type.
const (
	TypePrivate        = "private"
	TypePublic         = "public"
	TypeAuthorizedKeys = "authorizedkeys"
)

const candidateRegex = `^(-----BEGIN ((RSA|DSA|EC|OPENSSH) )?PRIVATE KEY|(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) )`

// Module is the sshkey module.
type Module struct{}

// Params are MIG's sshkey parameters.
type Params struct {
	Paths    []string `json:"paths"`
	MaxDepth int      `json:"maxdepth"`
}

// KeyInfo is one key found.
type KeyInfo struct {
	FingerprintMD5    string `json:"fingerprint_md5"`
	FingerprintSHA256 string `json:"fingerprint_sha256"`
	Path              string `json:"path"`
	Encrypted         bool   `json:"encrypted"`
	Type              string `json:"type"`
}

// Elements are the module's elements.
type Elements struct {
	Keys []KeyInfo `json:"keys"`
}

func defaultPaths() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{`C:\Users`}
	case "darwin":
		return []string{"/var/root", "/Users"}
	default:
		return []string{"/root", "/home"}
	}
}

// Run implements modules.Module.
func (Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return modules.Failed(fmt.Errorf("invalid sshkey parameters: %w", err)), nil
	}
	if p.MaxDepth < 0 || p.MaxDepth > 1000 {
		return modules.Failed(errors.New("maxdepth should be specified from 0-1000")), nil
	}
	paths := p.Paths
	if len(paths) == 0 {
		paths = defaultPaths()
	}
	depth := p.MaxDepth
	if depth == 0 {
		depth = 8 // MIG's default
	}
	cands, softErrs, err := candidates(ctx, paths, depth)
	if err != nil {
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		return modules.Failed(err), nil
	}
	el := Elements{Keys: []KeyInfo{}}
	for _, c := range cands {
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		keys, warn := inspect(c)
		el.Keys = append(el.Keys, keys...)
		if warn != "" {
			softErrs = append(softErrs, warn)
		}
	}
	return modules.Normalize(modules.Result{FoundAnything: len(el.Keys) > 0, Success: true, Elements: el, Errors: softErrs})
}

// candidates runs the file module over the paths and returns the files worth parsing, sorted.
func candidates(ctx context.Context, paths []string, depth int) ([]string, []string, error) {
	opts := map[string]any{"matchall": true, "maxdepth": depth}
	params, err := json.Marshal(map[string]any{"searches": map[string]any{
		"keys":     map[string]any{"paths": paths, "contents": []string{candidateRegex}, "sizes": []string{"<1m"}, "options": opts},
		"authkeys": map[string]any{"paths": paths, "names": []string{"^authorized_keys2?$"}, "sizes": []string{"<1m"}, "options": opts},
	}})
	if err != nil {
		return nil, nil, fmt.Errorf("build file search: %w", err)
	}
	res, err := file.Module{}.Run(ctx, params)
	if err != nil {
		return nil, nil, err
	}
	if !res.Success {
		return nil, nil, fmt.Errorf("file search failed: %v", res.Errors)
	}
	b, err := json.Marshal(res.Elements)
	if err != nil {
		return nil, nil, fmt.Errorf("read file search results: %w", err)
	}
	var found map[string][]struct {
		File string `json:"file"`
	}
	if err := json.Unmarshal(b, &found); err != nil {
		return nil, nil, fmt.Errorf("read file search results: %w", err)
	}
	set := map[string]bool{}
	for _, list := range found {
		for _, f := range list {
			if f.File != "" {
				set[f.File] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	// Walking errors (unreadable home directories) are worth showing, as MIG's soft errors.
	return out, res.Errors, nil
}

// maxKeyFile bounds what one candidate may make us read: the file search already skips files of
// 1 MiB and more, this holds if a file grows in between.
const maxKeyFile = 1 << 20

// inspect reads one candidate and parses it.
func inspect(path string) ([]KeyInfo, string) {
	buf, err := readBounded(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Sprintf("%v", err)
	}
	return inspectData(path, buf)
}

// readBounded reads a candidate whole; one larger than limit is refused and left unparsed.
func readBounded(path string, limit int64) ([]byte, error) {
	b, err := limitread.File(path, limit)
	var tl *limitread.TooLargeError
	if errors.As(err, &tl) {
		return nil, fmt.Errorf("%w, not parsed as a key file", err)
	}
	return b, err
}

// inspectData parses a candidate's content as a private key, else as a public key or
// authorized_keys file.
func inspectData(path string, buf []byte) ([]KeyInfo, string) {
	base := filepath.Base(path)
	if base != "authorized_keys" && base != "authorized_keys2" {
		pub, err := keyparse.PrivateKey(buf)
		if err == nil {
			return []KeyInfo{info(path, pub, TypePrivate)}, ""
		}
		var enc *keyparse.EncryptedError
		if errors.As(err, &enc) {
			ki := KeyInfo{Path: path, Encrypted: true, Type: TypePrivate}
			if enc.Public != nil {
				ki.FingerprintMD5 = keyparse.FingerprintMD5(enc.Public)
				ki.FingerprintSHA256 = keyparse.FingerprintSHA256(enc.Public)
			}
			return []KeyInfo{ki}, ""
		}
		if pub, err := keyparse.AuthorizedKey(buf); err == nil {
			return []KeyInfo{info(path, pub, TypePublic)}, ""
		}
		return nil, ""
	}
	// authorized_keys: one entry per parsable line; a bad line is reported once per file
	// (comments and blank lines are not bad, unlike in MIG).
	var out []KeyInfo
	bad := false
	for _, line := range bytes.Split(buf, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, err := keyparse.AuthorizedKey(line)
		if err != nil {
			bad = true
			continue
		}
		out = append(out, info(path, pub, TypeAuthorizedKeys))
	}
	if bad {
		return out, fmt.Sprintf("%v contained unparsable data", path)
	}
	return out, ""
}

// info describes a key from its public wire blob.
func info(path string, pub []byte, typ string) KeyInfo {
	return KeyInfo{FingerprintMD5: keyparse.FingerprintMD5(pub), FingerprintSHA256: keyparse.FingerprintSHA256(pub), Path: path, Type: typ}
}
