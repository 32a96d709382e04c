// Package config reads agent.toml: the [agent], [inventory] and [jobs] tables and one [[server]]
// table per management server. Protocol-specific keys of a server are decoded into the options
// struct its protocol registers, so an unknown key is caught wherever it is.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/omniagent/omniagent/selfupdate"
)

//go:embed default.toml
var defaultTOML []byte

// DefaultSource names the embedded configuration in messages.
const DefaultSource = "embedded default config"

// Config is the whole agent configuration.
type Config struct {
	Agent     Agent     `toml:"agent"`
	Inventory Inventory `toml:"inventory"`
	Jobs      Jobs      `toml:"jobs"`
	Update    Update    `toml:"update"`
	Servers   []Server  `toml:"-"`
	// Source is the file the config came from, or DefaultSource.
	Source string `toml:"-"`
	// Warnings are settings that parse but contradict each other (see Linter), in line order.
	Warnings []*Error `toml:"-"`
}

// Agent holds the process-wide settings.
type Agent struct {
	StateDir   string   `toml:"state_dir"`
	LogLevel   string   `toml:"log_level"`
	LogFormat  string   `toml:"log_format"`
	Hostname   string   `toml:"hostname"`
	MachineUID string   `toml:"machine_uid"`
	Splay      Duration `toml:"splay"`
	MaxBackoff Duration `toml:"max_backoff"`
	Jitter     float64  `toml:"jitter"`
	// MemoryLimit is the self-watchdog's heap limit; 0 disables it.
	MemoryLimit ByteSize `toml:"memory_limit"`
}

// Inventory controls the collectors.
type Inventory struct {
	TTL             Duration `toml:"ttl"`
	CategoryTimeout Duration `toml:"category_timeout"`
	Disable         []string `toml:"disable"`
	// Envs sends the agent process's environment variables (glpi-agent's "envs" section),
	// secret-looking values redacted. Off by default: a service environment may hold secrets.
	Envs bool `toml:"envs"`
}

// Disabled is the list of categories not to collect: Disable, plus "envs" unless Envs is on.
func (i Inventory) Disabled() []string {
	out := append([]string(nil), i.Disable...)
	if !i.Envs {
		out = append(out, "envs")
	}
	return out
}

// Jobs is the execution policy. Everything is refused unless enabled; a server may override.
type Jobs struct {
	AllowExec   bool     `toml:"allow_exec"`
	AllowShell  bool     `toml:"allow_shell"`
	AllowPower  bool     `toml:"allow_power"`
	Shell       string   `toml:"shell"`
	MaxOutput   ByteSize `toml:"max_output"`
	MaxDownload ByteSize `toml:"max_download"`
	Timeout     Duration `toml:"timeout"`
}

// Update is the self-update policy: off until public keys are pinned.
type Update struct {
	// PublicKeys are minisign public keys (the base64 line of a .pub file); a new agent
	// binary must be signed by one of them.
	PublicKeys     []string `toml:"public_keys"`
	AllowDowngrade bool     `toml:"allow_downgrade"`
	// MaxSize refuses larger files.
	MaxSize ByteSize `toml:"max_size"`
}

// Server holds the keys every [[server]] table shares, plus the protocol's own options.
type Server struct {
	Name               string   `toml:"name"`
	Protocol           string   `toml:"protocol"`
	URL                string   `toml:"url"`
	Interval           Duration `toml:"interval"`
	Disabled           bool     `toml:"disabled"`
	CAFile             string   `toml:"ca_file"`
	ClientCert         string   `toml:"client_cert"`
	ClientKey          string   `toml:"client_key"`
	InsecureSkipVerify bool     `toml:"insecure_skip_verify"`
	Proxy              string   `toml:"proxy"`
	NoProxy            string   `toml:"no_proxy"`
	Timeout            Duration `toml:"timeout"`
	// RequestTimeout bounds each whole API exchange, body included; 0 = 2 min.
	RequestTimeout Duration `toml:"request_timeout"`
	MaxResponse    ByteSize `toml:"max_response"`
	AllowExec      *bool    `toml:"allow_exec"`
	AllowShell     *bool    `toml:"allow_shell"`
	AllowPower     *bool    `toml:"allow_power"`

	// Options is the pointer returned by the protocol's options constructor, filled from the
	// protocol-specific keys of this table.
	Options any `toml:"-"`
	// Line is the line of this server's [[server]] header (0 for servers built in code).
	Line int `toml:"-"`
}

// Policy is the job policy for one server: the [jobs] table with this server's overrides.
func (c *Config) Policy(s Server) (exec, shell, power bool) {
	exec, shell, power = c.Jobs.AllowExec, c.Jobs.AllowShell, c.Jobs.AllowPower
	if s.AllowExec != nil {
		exec = *s.AllowExec
	}
	if s.AllowShell != nil {
		shell = *s.AllowShell
	}
	if s.AllowPower != nil {
		power = *s.AllowPower
	}
	return exec, shell, power
}

// Validator is implemented by protocol options that check themselves after decoding.
type Validator interface {
	Validate() error
}

// Protocols tells the parser which protocols exist and gives a fresh options struct (defaults
// filled) for one of them.
type Protocols interface {
	Names() []string
	NewOptions(protocol string) (any, bool)
}

// Error is a configuration error that names where it happened.
type Error struct {
	Source string
	Line   int
	Key    string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// DefaultPath is where the service looks for its config on this OS.
func DefaultPath() string { return defaultPath(runtime.GOOS) }

func defaultPath(goos string) string {
	switch goos {
	case "windows":
		return `C:\ProgramData\omniagent\agent.toml`
	case "darwin":
		return "/Library/Application Support/omniagent/agent.toml"
	default:
		return "/etc/omniagent/agent.toml"
	}
}

// DefaultStateDir is the state directory used when [agent] state_dir is empty.
func DefaultStateDir() string { return defaultStateDir(runtime.GOOS) }

func defaultStateDir(goos string) string {
	switch goos {
	case "windows":
		return `C:\ProgramData\omniagent\state`
	case "darwin":
		return "/Library/Application Support/omniagent/state"
	default:
		return "/var/lib/omniagent"
	}
}

// Load reads path. When path is empty it reads the OS default path, or the embedded default
// config when that file does not exist.
func Load(path string, protos Protocols) (*Config, error) {
	if path == "" {
		p := DefaultPath()
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return Parse(defaultTOML, DefaultSource, protos)
		}
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, protos)
}

// Default returns the embedded default configuration text.
func Default() []byte { return append([]byte(nil), defaultTOML...) }

type fileShape struct {
	Agent     toml.Primitive   `toml:"agent"`
	Inventory toml.Primitive   `toml:"inventory"`
	Jobs      toml.Primitive   `toml:"jobs"`
	Update    toml.Primitive   `toml:"update"`
	Server    []toml.Primitive `toml:"server"`
}

// Parse decodes and validates a configuration. It reports every error it can find in one go
// (an Errors), each at the line of the offending key; a TOML syntax error stops it at once.
// Settings that parse but contradict each other are left in cfg.Warnings.
func Parse(data []byte, source string, protos Protocols) (*Config, error) {
	cfg := &Config{Source: source}
	cfg.applyDefaults()
	src := string(data)
	var shape fileShape
	md, err := toml.Decode(src, &shape)
	if err != nil {
		return nil, tomlError(source, err)
	}
	var errs []*Error
	add := func(err error) {
		var ce *Error
		if errors.As(err, &ce) {
			errs = append(errs, ce)
		} else {
			errs = append(errs, &Error{Source: source, Msg: err.Error()})
		}
	}
	// A table whose decoding stopped at a type error leaves its later keys undecoded: they are
	// not reported as unknown.
	broken := map[string]bool{}
	for _, part := range []struct {
		prim toml.Primitive
		dst  any
		key  string
	}{{shape.Agent, &cfg.Agent, "agent"}, {shape.Inventory, &cfg.Inventory, "inventory"}, {shape.Jobs, &cfg.Jobs, "jobs"}, {shape.Update, &cfg.Update, "update"}} {
		if !md.IsDefined(part.key) {
			continue
		}
		if err := md.PrimitiveDecode(part.prim, part.dst); err != nil {
			add(tomlError(source, err))
			broken[part.key] = true
		}
	}
	headers := serverHeaderLines(src)
	names := map[string]int{}
	for i, prim := range shape.Server {
		s := Server{}
		if i < len(headers) {
			s.Line = headers[i]
		}
		if err := md.PrimitiveDecode(prim, &s); err != nil {
			add(tomlError(source, err))
			brokenServer(src, s.Line, broken)
			continue
		}
		where := func(msg string, key string) {
			if len(errs) >= MaxErrors {
				return
			}
			line := s.Line
			if key != "name" || s.Name != "" {
				line = serverKeyLine(src, s.Line, key)
			}
			errs = append(errs, &Error{Source: source, Line: line, Key: key, Msg: msg})
		}
		if s.Name == "" {
			where(fmt.Sprintf("server #%d: missing required key", i+1), "name")
			brokenServer(src, s.Line, broken)
			continue
		}
		if prev, dup := names[s.Name]; dup {
			where(fmt.Sprintf("duplicate server name %q (first defined on line %d)", s.Name, prev), "name")
		}
		names[s.Name] = s.Line
		if s.Protocol == "" {
			where(fmt.Sprintf("server %q: missing required key", s.Name), "protocol")
			brokenServer(src, s.Line, broken)
			continue
		}
		if protos == nil {
			where(fmt.Sprintf("server %q: no protocols are registered", s.Name), "protocol")
			continue
		}
		opts, ok := protos.NewOptions(s.Protocol)
		if !ok {
			where(fmt.Sprintf("server %q: unknown protocol %q (known: %s)", s.Name, s.Protocol, strings.Join(protos.Names(), ", ")), "protocol")
			brokenServer(src, s.Line, broken)
			continue
		}
		if opts != nil {
			if err := md.PrimitiveDecode(prim, opts); err != nil {
				add(tomlError(source, err))
				brokenServer(src, s.Line, broken)
				continue
			}
		}
		s.Options = opts
		cfg.Servers = append(cfg.Servers, s)
	}
	errs = append(errs, checkKeys(md, src, source, broken)...)
	if len(errs) < MaxErrors {
		errs = append(errs, cfg.validate(src)...)
	}
	if err := result(errs); err != nil {
		return nil, err
	}
	cfg.lint(src)
	return cfg, nil
}

func (c *Config) applyDefaults() {
	c.Agent = Agent{LogLevel: "info", LogFormat: "text", Splay: Duration(30 * time.Second), MaxBackoff: Duration(time.Hour), Jitter: 0.1, MemoryLimit: 256 << 20}
	c.Inventory = Inventory{TTL: Duration(5 * time.Minute), CategoryTimeout: Duration(10 * time.Second), Disable: []string{"processes"}}
	c.Jobs = Jobs{MaxOutput: 1 << 20, MaxDownload: 4 << 30, Timeout: Duration(time.Hour)}
	c.Update = Update{MaxSize: 256 << 20}
}

func (c *Config) validate(src string) []*Error {
	var errs []*Error
	e := func(key, msg string) {
		if len(errs) < MaxErrors {
			errs = append(errs, &Error{Source: c.Source, Line: keyLine(src, toml.Key(strings.Split(key, "."))), Key: key, Msg: msg})
		}
	}
	switch c.Agent.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		e("agent.log_level", fmt.Sprintf("invalid value %q (want debug, info, warn or error)", c.Agent.LogLevel))
	}
	switch c.Agent.LogFormat {
	case "text", "json":
	default:
		e("agent.log_format", fmt.Sprintf("invalid value %q (want text or json)", c.Agent.LogFormat))
	}
	if !(c.Agent.Jitter >= 0 && c.Agent.Jitter < 1) { // NaN fails both comparisons
		e("agent.jitter", fmt.Sprintf("invalid value %v (want a fraction between 0 and 1, such as 0.1)", c.Agent.Jitter))
	}
	if c.Agent.MaxBackoff.D() < time.Second {
		e("agent.max_backoff", "must be at least 1s")
	}
	for _, k := range c.Update.PublicKeys {
		if _, err := selfupdate.ParsePublicKey(k); err != nil {
			e("update.public_keys", err.Error())
		}
	}
	if c.Update.MaxSize < 1<<20 {
		e("update.max_size", "must be at least 1MB")
	}
	for _, s := range c.Servers {
		se := func(key, msg string) {
			if len(errs) >= MaxErrors {
				return
			}
			errs = append(errs, &Error{Source: c.Source, Line: serverKeyLine(src, s.Line, key), Key: key, Msg: fmt.Sprintf("server %q: %s", s.Name, msg)})
		}
		if s.URL != "" {
			if !strings.Contains(s.URL, "://") {
				se("url", fmt.Sprintf("%q is not an absolute URL (missing scheme)", s.URL))
			}
		}
		if s.RequestTimeout != 0 && s.RequestTimeout.D() < time.Second {
			se("request_timeout", "must be at least 1s")
		}
		if (s.ClientCert == "") != (s.ClientKey == "") {
			se("client_cert", "client_cert and client_key go together")
		}
		for _, kv := range [][2]string{{"ca_file", s.CAFile}, {"client_cert", s.ClientCert}, {"client_key", s.ClientKey}} {
			if kv[1] != "" && !filepath.IsAbs(kv[1]) {
				se(kv[0], fmt.Sprintf("path %q must be absolute", kv[1]))
			}
		}
		if v, ok := s.Options.(Validator); ok {
			if err := v.Validate(); err != nil {
				// A joined error is one message per key: each goes to its own line.
				list := []error{err}
				if j, ok := err.(interface{ Unwrap() []error }); ok {
					list = j.Unwrap()
				}
				for _, one := range list {
					se(keyOf(one.Error()), one.Error())
				}
			}
		}
	}
	return errs
}

// checkKeys refuses keys that matched no field, and keys whose case only matched by the
// decoder's case-insensitive fallback.
func checkKeys(md toml.MetaData, src, source string, broken map[string]bool) []*Error {
	var bad []toml.Key
	for _, k := range md.Undecoded() {
		if !broken[k[0]] && !broken[k.String()] {
			bad = append(bad, k)
		}
	}
	for _, k := range md.Keys() {
		// Depth 1 and 2 are our own keys; deeper keys may be user-defined map keys.
		if len(k) <= 2 && strings.ToLower(k.String()) != k.String() {
			bad = append(bad, k)
		}
	}
	var errs []*Error
	seen := map[string]int{} // a key repeated in several [[server]] tables: its n-th line
	for _, k := range bad {
		if len(errs) >= MaxErrors {
			break
		}
		n := seen[k.String()]
		seen[k.String()]++
		errs = append(errs, &Error{Source: source, Line: keyLineN(src, k, n), Key: k.String(), Msg: "unknown key (check its spelling and the table it is in; keys are lower case)"})
	}
	return errs
}
