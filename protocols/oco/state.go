package oco

import (
	"encoding/json"
	"time"
)

// persisted is this server's state file. Keys are secrets: the state package writes 0600.
type persisted struct {
	APIURL    string `json:"api_url,omitempty"`
	URLSource string `json:"url_source,omitempty"` // "config" or "dns-srv"
	AgentKey  string `json:"agent_key,omitempty"`  // individual key issued by the server
	ServerKey string `json:"server_key,omitempty"` // pinned on first use, never replaced
	// KeyHostname is the hostname the agent key was issued for (a rename makes a new computer).
	KeyHostname   string  `json:"key_hostname,omitempty"`
	LastRequestTS float64 `json:"last_request_ts,omitempty"`
	LastServerTS  float64 `json:"last_server_ts,omitempty"`
	// Mode is the negotiated protocol ("hmac" or "legacy"); SignedSeen forbids a downgrade.
	Mode       string `json:"mode,omitempty"`
	ModeReason string `json:"mode_reason,omitempty"`
	SignedSeen bool   `json:"signed_answer_seen,omitempty"`
	// InFlight is the job being run; found at start, it was interrupted by a restart.
	InFlight *jobRef `json:"in_flight_job,omitempty"`
	// Unreported are final job results whose report was not acknowledged: re-sent, not re-run.
	Unreported []finalReport `json:"unreported_results,omitempty"`
	// InventoryHash is the digest of the last inventory sent (volatile fields excluded).
	InventoryHash string    `json:"inventory_hash,omitempty"`
	InventorySent time.Time `json:"inventory_sent,omitzero"`
	LastError     string    `json:"last_server_error,omitempty"`
	// PendingRotations are password rotations stored on the server whose local change was not
	// confirmed (the agent stopped in between): the next cycle rotates those accounts again.
	// No password is ever kept here.
	PendingRotations []pendingRotation `json:"pending_password_rotations,omitempty"`
}

type pendingRotation struct {
	Username string    `json:"username"`
	Alphabet string    `json:"alphabet"`
	Length   int       `json:"length"`
	Started  time.Time `json:"started"`
}

type jobRef struct {
	ID        json.RawMessage `json:"id"`
	Container json.RawMessage `json:"container_id,omitempty"`
	Started   time.Time       `json:"started"`
}

type finalReport struct {
	ID      json.RawMessage `json:"id"`
	State   int             `json:"state"`
	RC      int             `json:"return_code"`
	Message string          `json:"message"`
}
