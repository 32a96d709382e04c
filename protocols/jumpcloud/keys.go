package jumpcloud

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/limitread"
)

// Paths are where the JumpCloud agent keeps its files on one OS.
type Paths struct {
	Conf, Key, Log string
}

// DefaultPaths returns the JumpCloud agent's default file locations for goos.
func DefaultPaths(goos string) Paths {
	if goos == "windows" {
		dir := `C:\Program Files\JumpCloud\Plugins\Contrib`
		return Paths{Conf: dir + `\jcagent.conf`, Key: dir + `\client.key`, Log: `C:\Windows\Temp\jcagent.log`}
	}
	return Paths{Conf: "/opt/jc/jcagent.conf", Key: "/opt/jc/client.key", Log: "/var/log/jcagent.log"}
}

// AgentConf is the part of jcagent.conf we use; unknown keys are ignored.
type AgentConf struct {
	SystemKey       string `json:"systemKey"`
	AgentServerHost string `json:"agentServerHost"`
	ClientKey       string `json:"clientKey"`
}

// ErrNotInstalled is returned when the JumpCloud agent's files are missing.
var ErrNotInstalled = errors.New("the JumpCloud agent is not installed")

// Identity is the system's key material, read fresh every cycle (the JumpCloud agent owns it).
type Identity struct {
	SystemKey string
	Host      string // agentServerHost
	Key       *rsa.PrivateKey
}

// LoadIdentity reads jcagent.conf and the private key. confPath/keyPath empty mean defaults.
func LoadIdentity(p Paths, confPath, keyPath string) (*Identity, error) {
	if confPath == "" {
		confPath = p.Conf
	}
	raw, err := readSmallFile(confPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist (set jcagent_conf if it lives elsewhere; the JumpCloud agent logs to %s)", ErrNotInstalled, confPath, p.Log)
	}
	if err != nil {
		return nil, fmt.Errorf("read JumpCloud agent config %s: %w", confPath, err)
	}
	var c AgentConf
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("JumpCloud agent config %s is not valid JSON: %w", confPath, err)
	}
	if !objectID.Get().MatchString(c.SystemKey) {
		if c.SystemKey == "" {
			return nil, fmt.Errorf("JumpCloud agent config %s has no systemKey: the agent is not enrolled yet (see %s)", confPath, p.Log)
		}
		return nil, fmt.Errorf("JumpCloud agent config %s: systemKey %q is not a 24-hex-digit id", confPath, c.SystemKey)
	}
	if keyPath == "" {
		keyPath = c.ClientKey
	}
	if keyPath == "" {
		keyPath = p.Key
	}
	key, err := loadKey(keyPath, p.Log)
	if err != nil {
		return nil, err
	}
	return &Identity{SystemKey: c.SystemKey, Host: c.AgentServerHost, Key: key}, nil
}

// loadKey reads an RSA private key, PKCS#1 or PKCS#8 PEM. The key is never copied or logged.
func loadKey(path, logPath string) (*rsa.PrivateKey, error) {
	raw, err := readSmallFile(filepath.Clean(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: private key %s does not exist (set jcagent_key if it lives elsewhere; see %s)", ErrNotInstalled, path, logPath)
	}
	if err != nil {
		return nil, fmt.Errorf("read JumpCloud private key %s: %w", path, err)
	}
	return ParseKey(raw, path)
}

// maxFileSize bounds jcagent.conf and the key, both a few KiB: a path that names a device or
// a huge file must end in an error, not in reading forever.
const maxFileSize = 1 << 20

func readSmallFile(path string) ([]byte, error) {
	raw, err := limitread.File(path, maxFileSize)
	var tl *limitread.TooLargeError
	if errors.As(err, &tl) {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxFileSize) // callers name it
	}
	return raw, err
}

// ParseKey decodes a PEM RSA private key; name is for messages.
func ParseKey(raw []byte, name string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("JumpCloud private key %s: no PEM block", name)
	}
	if _, enc := block.Headers["DEK-Info"]; enc || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("JumpCloud private key %s: encrypted PEM is not supported", name)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("JumpCloud private key %s: bad PKCS#1 key: %w", name, err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("JumpCloud private key %s: bad PKCS#8 key: %w", name, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("JumpCloud private key %s: PKCS#8 key is %T, want RSA", name, k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("JumpCloud private key %s: PEM block %q is not an RSA private key", name, block.Type)
	}
}

// RegionURL maps agentServerHost to the API base URL.
func RegionURL(agentServerHost string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(agentServerHost))
	switch h {
	case "agent.jumpcloud.com":
		return "https://console.jumpcloud.com", nil
	case "agent.eu.jumpcloud.com":
		return "https://console.eu.jumpcloud.com", nil
	case "agent.in.jumpcloud.com":
		return "https://console.in.jumpcloud.com", nil
	}
	return "", fmt.Errorf("cannot derive region from agentServerHost=%q; set url", agentServerHost)
}
