package action

import (
	"time"

	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// SyntaxVersion is the only action syntax MIG agents accept.
const SyntaxVersion = 2

// Command statuses the agent sets (MIG's mig.Status* values).
const (
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusTimeout = "timeout"
)

// Action is MIG's signed action. Field order, types and omitempty rules are MIG's, so that
// json.Marshal gives the bytes MIG's scheduler and tools expect.
type Action struct {
	ID             float64        `json:"id"`
	Name           string         `json:"name"`
	Target         string         `json:"target"`
	Description    Description    `json:"description,omitempty"`
	Threat         Threat         `json:"threat,omitempty"`
	ValidFrom      time.Time      `json:"validfrom"`
	ExpireAfter    time.Time      `json:"expireafter"`
	Operations     []Operation    `json:"operations"`
	PGPSignatures  []string       `json:"pgpsignatures"`
	Investigators  []Investigator `json:"investigators,omitempty"`
	Status         string         `json:"status,omitempty"`
	StartTime      time.Time      `json:"starttime,omitempty"`
	FinishTime     time.Time      `json:"finishtime,omitempty"`
	LastUpdateTime time.Time      `json:"lastupdatetime,omitempty"`
	Counters       ActionCounters `json:"counters,omitempty"`
	SyntaxVersion  uint16         `json:"syntaxversion,omitempty"`
}

// ActionCounters tracks an action's completion (server side; echoed).
type ActionCounters struct {
	Sent      int `json:"sent,omitempty"`
	Done      int `json:"done,omitempty"`
	InFlight  int `json:"inflight,omitempty"`
	Success   int `json:"success,omitempty"`
	Cancelled int `json:"cancelled,omitempty"`
	Expired   int `json:"expired,omitempty"`
	Failed    int `json:"failed,omitempty"`
	TimeOut   int `json:"timeout,omitempty"`
}

// Description names the action's author (not signed; echoed).
type Description struct {
	Author   string  `json:"author,omitempty"`
	Email    string  `json:"email,omitempty"`
	URL      string  `json:"url,omitempty"`
	Revision float64 `json:"revision,omitempty"`
}

// Threat classifies the action (not signed; echoed).
type Threat struct {
	Ref    string `json:"ref,omitempty"`
	Level  string `json:"level,omitempty"`
	Family string `json:"family,omitempty"`
	Type   string `json:"type,omitempty"`
}

// Operation maps to one module run. Parameters is the generic JSON decode (map[string]any,
// float64 numbers, ...) exactly as MIG holds it: the signed string re-encodes it. When
// IsCompressed is set it is a string: base64 of gzip of the JSON parameters.
type Operation struct {
	Module         string `json:"module"`
	Parameters     any    `json:"parameters"`
	IsCompressed   bool   `json:"is_compressed,omitempty"`
	WantCompressed bool   `json:"want_compressed,omitempty"`
}

// Investigator is the API's record of a signer, optionally attached to actions (echoed).
type Investigator struct {
	ID             float64   `json:"id,omitempty"`
	Name           string    `json:"name"`
	PGPFingerprint string    `json:"pgpfingerprint"`
	PublicKey      []byte    `json:"publickey,omitempty"`
	PrivateKey     []byte    `json:"privatekey,omitempty"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"createdat"`
	LastModified   time.Time `json:"lastmodified"`
	Permissions    int       `json:"permissions"`
}

// Command is one action addressed to one agent: the body received on mig.agt.<queueloc> and,
// with Status and Results replaced, the body published to mig.agt.results.
type Command struct {
	ID         float64          `json:"id"`
	Action     Action           `json:"action"`
	Agent      Agent            `json:"agent"`
	Status     string           `json:"status"`
	Results    []modules.Result `json:"results"`
	StartTime  time.Time        `json:"starttime"`
	FinishTime time.Time        `json:"finishtime"`
}

// Agent is MIG's legacy lower-case agent schema: the scheduler's row for us inside a command
// (echoed, pid included) and the legacy AMQP heartbeat body (§3.5).
type Agent struct {
	ID              float64   `json:"id,omitempty"`
	Name            string    `json:"name"`
	QueueLoc        string    `json:"queueloc"`
	Mode            string    `json:"mode"`
	Version         string    `json:"version,omitempty"`
	PID             int       `json:"pid,omitempty"`
	LoaderName      string    `json:"loadername,omitempty"`
	StartTime       time.Time `json:"starttime,omitempty"`
	DestructionTime time.Time `json:"destructiontime,omitempty"`
	HeartBeatTS     time.Time `json:"heartbeatts,omitempty"`
	RefreshTS       time.Time `json:"refreshts,omitempty"`
	Status          string    `json:"status,omitempty"`
	Authorized      bool      `json:"authorized,omitempty"`
	Env             AgentEnv  `json:"environment,omitempty"`
	Tags            any       `json:"tags,omitempty"`
}

// AgentEnv is the legacy environment object.
type AgentEnv struct {
	Init      string      `json:"init,omitempty"`
	Ident     string      `json:"ident,omitempty"`
	OS        string      `json:"os,omitempty"`
	Arch      string      `json:"arch,omitempty"`
	IsProxied bool        `json:"isproxied"`
	Proxy     string      `json:"proxy,omitempty"`
	Addresses []string    `json:"addresses,omitempty"`
	PublicIP  string      `json:"publicip,omitempty"`
	AWS       AgentEnvAWS `json:"aws,omitempty"`
	Modules   []string    `json:"modules,omitempty"`
}

// AgentEnvAWS is always present (empty) in the legacy environment.
type AgentEnvAWS struct {
	InstanceID   string `json:"instanceid,omitempty"`
	LocalIPV4    string `json:"localipv4,omitempty"`
	AMIID        string `json:"amiid,omitempty"`
	InstanceType string `json:"instancetype,omitempty"`
}
