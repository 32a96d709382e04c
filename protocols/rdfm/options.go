package rdfm

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/lazyre"
)

// Options are the RDFM keys of a [[server]] table.
type Options struct {
	// DeviceID overrides the MAC address used as device id (lowercase colon form). Empty: the
	// first MAC of a physical interface, chosen once and persisted.
	DeviceID string `toml:"device_id"`
	// SoftwareVersion is the initial rdfm.software.version; later the installed one is persisted.
	SoftwareVersion string `toml:"software_version"`
	// DeviceType is rdfm.hardware.devtype (default omniagent-<os>-<arch>).
	DeviceType string `toml:"device_type"`
	// Tags are sent as rdfm.software.tags (applied by the server at first registration only).
	Tags []string `toml:"tags"`
	// Metadata adds extra string keys to the metadata (usable in package requires: rules).
	Metadata map[string]string `toml:"metadata"`
	// RetryInterval is how often authentication is retried while waiting for acceptance.
	RetryInterval config.Duration `toml:"retry_interval"`
	// InstallCommand installs a downloaded package (argv, no shell). Placeholders: {file} the
	// verified package path, {sha256}, {id} the package id. Empty: updates are not installed.
	InstallCommand []string `toml:"install_command"`
	// InstallTimeout bounds the install command.
	InstallTimeout config.Duration `toml:"install_timeout"`
	// FailedCooldown is how long a package whose install failed is skipped (doubling).
	FailedCooldown config.Duration `toml:"failed_cooldown"`
	// MaxPackage caps the package download size.
	MaxPackage config.ByteSize `toml:"max_package"`
	// Actions are the only commands the server may run ("action" capability; needs allow_exec).
	Actions []Action `toml:"actions"`
	// Shell enables the remote shell capability (also needs allow_shell).
	Shell bool `toml:"shell"`
	// MaxShells caps concurrent shells (the official client: 5); more requests are dropped.
	MaxShells int `toml:"max_shells"`
	// FSAllowedPaths enables the filesystem capability: files under these folders (symlinks
	// resolved) may be downloaded by the server. Empty: capability off.
	FSAllowedPaths []string `toml:"fs_allowed_paths"`
	// ActionQueue is how many actions may run or wait at once; more are answered "full".
	ActionQueue int `toml:"action_queue"`
}

// Action is one server-runnable command, declared in config.
type Action struct {
	ID          string          `toml:"id"`
	Name        string          `toml:"name"`
	Description string          `toml:"description"`
	Command     []string        `toml:"command"`
	Timeout     config.Duration `toml:"timeout"`
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		RetryInterval:  config.Duration(60 * time.Second),
		InstallTimeout: config.Duration(30 * time.Minute),
		FailedCooldown: config.Duration(6 * time.Hour),
		MaxPackage:     config.ByteSize(4 << 30),
		ActionQueue:    4,
		MaxShells:      5,
	}
}

var macRe = &lazyre.Regexp{Expr: `^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`}

// Validate checks the values.
func (o *Options) Validate() error {
	var errs []error
	if o.DeviceID != "" && !macRe.Get().MatchString(o.DeviceID) {
		errs = append(errs, fmt.Errorf("device_id %q: want a lowercase MAC like aa:bb:cc:dd:ee:01", o.DeviceID))
	}
	if o.RetryInterval.D() < time.Second {
		errs = append(errs, fmt.Errorf("retry_interval %s: must be at least 1s", o.RetryInterval.D()))
	}
	if o.InstallTimeout.D() <= 0 {
		errs = append(errs, errors.New("install_timeout must be positive"))
	}
	if o.FailedCooldown.D() < 0 {
		errs = append(errs, errors.New("failed_cooldown must not be negative"))
	}
	if len(o.InstallCommand) > 0 && strings.TrimSpace(o.InstallCommand[0]) == "" {
		errs = append(errs, errors.New("install_command: the program is empty"))
	}
	for k := range o.Metadata {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("metadata: empty key"))
		}
	}
	for _, p := range o.FSAllowedPaths {
		if !filepath.IsAbs(p) {
			errs = append(errs, fmt.Errorf("fs_allowed_paths: %q is not absolute", p))
		}
	}
	if o.MaxShells < 1 {
		errs = append(errs, errors.New("max_shells must be at least 1"))
	}
	if o.ActionQueue < 1 {
		errs = append(errs, errors.New("action_queue must be at least 1"))
	}
	seen := map[string]bool{}
	for i, a := range o.Actions {
		switch {
		case a.ID == "":
			errs = append(errs, fmt.Errorf("actions[%d]: id is empty", i))
		case seen[a.ID]:
			errs = append(errs, fmt.Errorf("actions[%d]: id %q repeated", i, a.ID))
		}
		seen[a.ID] = true
		if len(a.Command) == 0 || strings.TrimSpace(a.Command[0]) == "" {
			errs = append(errs, fmt.Errorf("actions[%d] %q: command is empty", i, a.ID))
		}
		if a.Timeout.D() <= 0 {
			errs = append(errs, fmt.Errorf("actions[%d] %q: timeout must be positive", i, a.ID))
		}
	}
	return errors.Join(errs...)
}
