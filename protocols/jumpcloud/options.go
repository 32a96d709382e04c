package jumpcloud

import (
	"fmt"
	"strings"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/lazyre"
)

// Shutdown modes of on_shutdown.
const (
	ShutdownNone        = "none"
	ShutdownLeaveGroups = "leave_groups"
	ShutdownDelete      = "delete"
)

// User is one user to bind to this system, by JumpCloud id (a system cannot look names up).
type User struct {
	ID                  string `toml:"id"`
	Sudo                bool   `toml:"sudo"`
	SudoWithoutPassword bool   `toml:"sudo_without_password"`
}

// Options are the JumpCloud keys of a [[server]] table.
type Options struct {
	// JCAgentConf is the JumpCloud agent's jcagent.conf; empty = the OS default.
	JCAgentConf string `toml:"jcagent_conf"`
	// JCAgentKey is the JumpCloud agent's private key; empty = clientKey from jcagent.conf, else
	// the OS default. (Not "client_key": that common key is the TLS client key.)
	JCAgentKey string `toml:"jcagent_key"`
	// DisplayName is a template ({{.Hostname}}, {{.FQDN}}, {{.Serial}}) or a literal; empty
	// leaves the record's display name alone.
	DisplayName string `toml:"display_name"`
	// Description is a template or a literal; "summary" is the one-line inventory summary;
	// empty leaves it alone.
	Description string `toml:"description"`
	// Attributes publishes the inventory summary as omniagent* custom attributes.
	Attributes bool `toml:"attributes"`
	// SystemGroups are system group ids to join.
	SystemGroups []string `toml:"system_groups"`
	// Users are user ids to bind, with their sudo flags.
	Users []User `toml:"users"`
	// Tags are names of existing tags (legacy), sent only when set.
	Tags []string `toml:"tags"`
	// DeleteOnUninstall deletes the system record on `omniagent uninstall`.
	DeleteOnUninstall bool `toml:"delete_on_uninstall"`
	// OnShutdown is what to do when the OS shuts down: none, leave_groups or delete.
	OnShutdown string `toml:"on_shutdown"`
	// ShutdownTimeout bounds the shutdown action.
	ShutdownTimeout config.Duration `toml:"shutdown_timeout"`
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{Attributes: true, OnShutdown: ShutdownNone, ShutdownTimeout: config.Duration(20 * time.Second)}
}

var objectID = &lazyre.Regexp{Expr: `^[0-9a-f]{24}$`}

// Validate checks the values.
func (o *Options) Validate() error {
	for _, g := range o.SystemGroups {
		if !objectID.Get().MatchString(g) {
			return fmt.Errorf("system_groups: %q is not a JumpCloud id (24 lowercase hex digits; groups are given by id, a system cannot look names up)", g)
		}
	}
	seen := map[string]bool{}
	for _, u := range o.Users {
		if !objectID.Get().MatchString(u.ID) {
			return fmt.Errorf("users: id %q is not a JumpCloud id (24 lowercase hex digits)", u.ID)
		}
		if seen[u.ID] {
			return fmt.Errorf("users: id %q listed twice", u.ID)
		}
		seen[u.ID] = true
		if u.SudoWithoutPassword && !u.Sudo {
			return fmt.Errorf("users: id %q has sudo_without_password without sudo", u.ID)
		}
	}
	for _, t := range o.Tags {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("tags: empty tag name")
		}
	}
	switch o.OnShutdown {
	case "":
		o.OnShutdown = ShutdownNone
	case ShutdownNone, ShutdownLeaveGroups, ShutdownDelete:
	default:
		return fmt.Errorf("on_shutdown %q: want \"none\", \"leave_groups\" or \"delete\"", o.OnShutdown)
	}
	if d := o.ShutdownTimeout.D(); d < time.Second || d > 5*time.Minute {
		return fmt.Errorf("shutdown_timeout %s: want 1s to 5m", d)
	}
	for key, s := range map[string]string{"display_name": o.DisplayName, "description": o.Description} {
		if _, err := parseTemplate(s); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// TemplateData is what display_name and description templates see.
type TemplateData struct {
	Hostname, FQDN, Serial, Model, Manufacturer, OS, Summary string
}

// fieldTemplate is a parsed display_name or description: literal text and {{.Field}}
// placeholders. A small engine of its own rather than text/template, whose reflection on
// method names makes the linker keep every exported method of the binary (about 1 MB).
type fieldTemplate []templatePart

// templatePart is literal text, or a TemplateData field when field is set.
type templatePart struct{ text, field string }

func parseTemplate(s string) (fieldTemplate, error) {
	if s == "summary" {
		s = "{{.Summary}}"
	}
	var t fieldTemplate
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			t = append(t, templatePart{text: s})
			break
		}
		if i > 0 {
			t = append(t, templatePart{text: s[:i]})
		}
		end := strings.Index(s[i:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("template %q: unclosed {{", s)
		}
		action := strings.TrimSpace(s[i+2 : i+end])
		name, ok := strings.CutPrefix(action, ".")
		if !ok || templateField(TemplateData{}, name) == nil {
			return nil, fmt.Errorf("template: {{%s}} is not one of {{.Hostname}}, {{.FQDN}}, {{.Serial}}, {{.Model}}, {{.Manufacturer}}, {{.OS}}, {{.Summary}}", action)
		}
		t = append(t, templatePart{field: name})
		s = s[i+end+2:]
	}
	return t, nil
}

// execute renders the template with d.
func (t fieldTemplate) execute(d TemplateData) string {
	var b strings.Builder
	for _, p := range t {
		if p.field == "" {
			b.WriteString(p.text)
		} else if v := templateField(d, p.field); v != nil {
			b.WriteString(*v)
		}
	}
	return b.String()
}

// templateField is the named field of d, nil for an unknown name.
func templateField(d TemplateData, name string) *string {
	switch name {
	case "Hostname":
		return &d.Hostname
	case "FQDN":
		return &d.FQDN
	case "Serial":
		return &d.Serial
	case "Model":
		return &d.Model
	case "Manufacturer":
		return &d.Manufacturer
	case "OS":
		return &d.OS
	case "Summary":
		return &d.Summary
	}
	return nil
}
