package glpi

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
)

// Compression names accepted by the compression key.
const (
	CompressZlib   = "zlib"
	CompressGzip   = "gzip"
	CompressBrotli = "brotli"
	CompressNone   = "none"
)

// Options are the GLPI keys of a [[server]] table.
type Options struct {
	// Tag is sent with CONTACT and INVENTORY (GLPI's agent tag, used by its rules).
	Tag string `toml:"tag"`
	// Compression of request bodies: "zlib" (default), "gzip", "brotli" or "none". brotli is
	// used only while the server accepts it (GLPI 10 answers 500, GLPI 11 415): after a refusal
	// the agent falls back to zlib and remembers it.
	Compression string `toml:"compression"`
	// FullInventoryPostpone is how many partial inventories (changed sections only) are sent
	// between two full ones; 0 always sends the full inventory (glpi-agent's
	// full-inventory-postpone, default 14).
	FullInventoryPostpone int `toml:"full_inventory_postpone"`
	// Tasks lists the tasks to run: "inventory", "deploy". Default both.
	Tasks []string `toml:"tasks"`
	// Deploy enables the glpiinventory deploy task (it also needs allow_exec for cmd actions).
	Deploy bool `toml:"deploy"`
	// PluginURL is the glpiinventory plugin URL; empty = probe <glpi>/marketplace/glpiinventory/
	// then <glpi>/plugins/glpiinventory/.
	PluginURL string `toml:"plugin_url"`
	// DeployFileRoots are the absolute folders where deploy mkdir/copy/move/delete actions may
	// act besides the job's own folder. Empty: only inside the job folder.
	DeployFileRoots []string `toml:"deploy_file_roots"`
	// DeployCommandTimeout bounds each deploy cmd action.
	DeployCommandTimeout config.Duration `toml:"deploy_command_timeout"`
	// Register turns on the REGISTER exchange (draft protocol; no GLPI release implements it).
	Register bool `toml:"register"`
	// Token is the REGISTER token, a UUID shared with the server (AES-128 key).
	Token string `toml:"token"`
	// DefaultExpiration is used when the server gives no usable expiration.
	DefaultExpiration config.Duration `toml:"default_expiration"`
	// Listen turns on the agent listener GLPI's "Agent status" and "Request inventory" buttons
	// call ("0.0.0.0:62354"; glpi-agent's httpd). Empty (the default): no listener.
	Listen string `toml:"listen"`
	// Trust lists more addresses or CIDR ranges ("10.0.0.0/8") allowed to call /now, besides
	// the addresses the server URL's host resolves to.
	Trust []string `toml:"trust"`
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Compression:           CompressZlib,
		FullInventoryPostpone: 14,
		Tasks:                 []string{"inventory", "deploy"},
		Deploy:                true,
		DeployCommandTimeout:  config.Duration(30 * time.Minute),
		DefaultExpiration:     config.Duration(24 * time.Hour),
	}
}

// Validate checks the values.
func (o *Options) Validate() error {
	switch o.Compression {
	case CompressZlib, CompressGzip, CompressBrotli, CompressNone:
	case "":
		o.Compression = CompressZlib
	default:
		return fmt.Errorf("compression %q: want \"zlib\", \"gzip\", \"brotli\" or \"none\"", o.Compression)
	}
	if o.FullInventoryPostpone < 0 || o.FullInventoryPostpone > 1000 {
		return fmt.Errorf("full_inventory_postpone %d: want 0 to 1000", o.FullInventoryPostpone)
	}
	for _, t := range o.Tasks {
		switch t {
		case "inventory", "deploy":
		default:
			return fmt.Errorf("tasks: unknown task %q (known: \"inventory\", \"deploy\")", t)
		}
	}
	for _, r := range o.DeployFileRoots {
		if !filepath.IsAbs(r) || filepath.Clean(r) == filepath.Dir(filepath.Clean(r)) {
			return fmt.Errorf("deploy_file_roots: %q must be an absolute folder other than the file system root", r)
		}
	}
	if o.DeployCommandTimeout.D() < 0 {
		return fmt.Errorf("deploy_command_timeout %s is negative", o.DeployCommandTimeout.D())
	}
	if o.DefaultExpiration.D() != 0 && o.DefaultExpiration.D() < time.Minute {
		return fmt.Errorf("default_expiration %s: use at least 1m", o.DefaultExpiration.D())
	}
	if o.Listen != "" {
		if _, err := listenPort(o.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	if _, err := parseTrust(o.Trust); err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	if o.Register {
		if _, err := parseBlock(o.Token); err != nil {
			return fmt.Errorf("token: register = true needs a UUID token: %w", err)
		}
	} else if o.Token != "" {
		if _, err := parseBlock(o.Token); err != nil {
			return fmt.Errorf("token: %w", err)
		}
	}
	return nil
}

// taskEnabled says whether the user enabled a task.
func (o *Options) taskEnabled(name string) bool {
	if name == "deploy" && !o.Deploy {
		return false
	}
	for _, t := range o.Tasks {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}
