package glpi

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/omniagent/omniagent/state"
)

// Server kinds found by the first contact.
const (
	modeUnknown = ""
	modeJSON    = "json"
	modeXML     = "xml"
)

// persisted is the adapter's state file (state/<server>.json, 0600).
type persisted struct {
	DeviceID string `json:"deviceid"`
	AgentID  string `json:"agentid"`
	// Fingerprint is what the deviceid was made for (machine UID): a clone or a rename gets
	// new ids.
	Fingerprint string `json:"fingerprint,omitempty"`
	Mode        string `json:"mode,omitempty"`

	MaxDelay    time.Duration `json:"max_delay,omitempty"`
	NextContact time.Time     `json:"next_contact,omitzero"`
	// NoBrotli is set once the server refused a brotli body.
	NoBrotli bool `json:"no_brotli,omitempty"`

	// Partial inventories: digests of the sections last accepted and the run counter.
	Digests  map[string]string `json:"digests,omitempty"`
	RunCount int               `json:"run_count"`
	LastFull time.Time         `json:"last_full,omitzero"`
	// Spooled describes the inventory waiting on disk after a failed send.
	Spooled *spooled `json:"spooled,omitempty"`

	Deploy   deployState   `json:"deploy"`
	Register registerState `json:"register"`
}

// spooled is a queued inventory: the file and the digests to commit once it is accepted.
type spooled struct {
	File    string            `json:"file"`
	Digests map[string]string `json:"digests"`
	Full    bool              `json:"full"`
	Since   time.Time         `json:"since"`
	Retries int               `json:"retries"`
}

// deployState is what the deploy task remembers.
type deployState struct {
	PluginURL string        `json:"plugin_url,omitempty"`
	Remote    string        `json:"remote,omitempty"`
	Version   string        `json:"version,omitempty"` // plugin version from CONTACT
	Enabled   bool          `json:"enabled,omitempty"` // CONTACT said glpiinventory serves deploy
	Validity  time.Duration `json:"validity,omitempty"`
	NextPoll  time.Time     `json:"next_poll,omitzero"`
}

// registerState is the REGISTER status.
type registerState struct {
	Unsupported bool      `json:"unsupported,omitempty"`
	Status      string    `json:"status,omitempty"`
	Until       time.Time `json:"until,omitzero"` // status expiration
	Renew       time.Time `json:"renew,omitzero"` // next REGISTER
	Key         string    `json:"key,omitempty"`  // received 128-bit key, hex
	Challenge   string    `json:"challenge,omitempty"`
}

// newUUID returns a random lowercase UUID v4.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// makeDeviceID builds <hostname>-YYYY-MM-DD-HH-MM-SS in local time.
func makeDeviceID(host string, now time.Time) string {
	if host == "" {
		host = "omniagent"
	}
	return host + "-" + now.Local().Format("2006-01-02-15-04-05")
}

// loadState reads the state, making the identity on first use or after a clone.
func loadState(h *state.Handle, host, fingerprint string, now time.Time) (*persisted, bool, error) {
	var p persisted
	if _, err := h.Load(&p); err != nil {
		return nil, false, err
	}
	changed := false
	if p.DeviceID == "" || p.AgentID == "" || (p.Fingerprint != "" && fingerprint != "" && p.Fingerprint != fingerprint) {
		p = persisted{Deploy: p.Deploy, Register: registerState{Unsupported: p.Register.Unsupported}}
		p.DeviceID = makeDeviceID(host, now)
		p.AgentID = newUUID()
		p.Deploy.NextPoll = time.Time{}
		changed = true
	}
	if p.Fingerprint == "" && fingerprint != "" {
		p.Fingerprint = fingerprint
		changed = true
	}
	return &p, changed, nil
}

// writeSpool stores a payload atomically in the spool folder.
func writeSpool(dir, name string, data []byte) (string, error) {
	p := filepath.Join(dir, name)
	if err := state.WriteFileAtomic(p, data, 0o600); err != nil {
		return "", fmt.Errorf("queue inventory in %s: %w", dir, err)
	}
	return p, nil
}

func readSpool(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read queued inventory: %w", err)
	}
	return b, nil
}
