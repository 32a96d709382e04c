// Package jobs is the only place that touches payloads and processes: downloads with progress
// and streaming hash checks, safe unpacking, command execution with timeouts and bounded
// output, power actions and pty shells. Adapters ask; the policy here decides.
//
// CONTRACT: the exported names in this file are what the protocol adapters code against.
// Fields may be added; existing names and meanings stay.
package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// EnvJobServer is set, to the server's name, in the environment of every command a job runs.
const EnvJobServer = "OMNIAGENT_JOB_SERVER"

// ErrRefused is wrapped by every error that the policy caused ("allow_exec is false ...").
var ErrRefused = errors.New("refused by the agent's policy")

// Policy says what this server may make the agent do. All false by default.
type Policy struct {
	AllowExec  bool
	AllowShell bool
	AllowPower bool
}

// Options configure a Runner.
type Options struct {
	Server      string // server name, for messages
	SpoolDir    string // downloads and staging folders live here
	Policy      Policy
	Logger      *slog.Logger
	Power       Power  // nil: the operating system's implementation
	Shell       string // interactive shell; "" = $SHELL, /bin/sh, or cmd.exe
	MaxOutput   int64  // default cap of captured output
	MaxDownload int64  // default size cap of a download
	Timeout     time.Duration
	// Watch, when set, sees the progress of every download of this runner (the CLI's
	// progress bars, the progress log of the daemon).
	Watch ProgressWatcher
	// OnExit is called (once, from its own goroutine, after the request's delay) when a server
	// asks the agent to exit (PowerRequest{Action: ExitAgent}) and Power is nil. The agent
	// wires it to its clean shutdown; without it such a request is refused with an error.
	OnExit func()
	// Reaper is the process-wide subreaper (StartReaper); nil in tests that need none.
	Reaper *Reaper
}

// Hash is an expected digest.
type Hash struct {
	Algo string // "sha256", "sha512", "md5" (only where a protocol forces it)
	Hex  string
}

// Progress is reported while downloading.
type Progress struct {
	Bytes   int64
	Total   int64   // -1 when unknown
	Percent float64 // -1 when unknown; reaches 100 at the end
}

// ProgressWatcher is told about every download of a runner.
type ProgressWatcher interface {
	// Start begins one download of server; the tracker gets its progress and its end.
	Start(server, name string) ProgressTracker
}

// ProgressTracker follows one download: Update at most every 500 ms, then Done once.
type ProgressTracker interface {
	Update(Progress)
	Done(err error)
}

// Download describes one payload to fetch. The runner calls NewRequest for every attempt and
// adds a Range header itself when resuming.
type Download struct {
	Client     *http.Client
	NewRequest func(ctx context.Context) (*http.Request, error)
	Name       string // file name hint in the spool folder
	MaxBytes   int64  // 0: the runner's default
	Want       *Hash  // nil only where the protocol gives no digest
	Progress   func(Progress)
	// CheckResponse lets the adapter refuse an answer (a JSON error instead of a file, say).
	CheckResponse func(*http.Response) error
}

// File is a downloaded, verified file in the spool folder. Remove it when done.
type File struct {
	Path   string
	Size   int64
	SHA256 string
	Digest string // hex digest in Want's algorithm, when one was given
	// SHA512 is set by DownloadParts: the digest of the joined (gunzipped) file, which GLPI
	// checks against the file key. Digest holds the same value there.
	SHA512 string
}

// Part is one piece of a multi-part payload (GLPI deploy sends a file as gzip parts, each with
// its own sha512).
type Part struct {
	Download
	Gunzip bool // the part is gzip-compressed; its hash is over the compressed bytes
}

// Limits bound an unpack.
type Limits struct {
	MaxBytes   int64 // total uncompressed size
	MaxEntries int
}

// Command is one process to run.
type Command struct {
	Line        string   // run through the shell: /bin/sh -c, cmd.exe /C
	Argv        []string // or run directly
	Shell       string   // "", "sh", "cmd", "powershell"
	Dir         string
	Env         []string // additions to the agent's environment, "K=V"
	Timeout     time.Duration
	MaxOutput   int64
	OnOutput    func(chunk []byte) // live output, called from one goroutine, in order
	OutputEvery time.Duration      // batch live output; 0 = as it arrives
	Stdin       io.Reader
}

// Result is how a command ended.
type Result struct {
	ExitCode  int // -1 when killed
	Output    []byte
	Truncated bool // the middle was cut; Output says where
	TimedOut  bool
	Canceled  bool
	Duration  time.Duration
}

// PowerAction is what to do with the machine or the agent.
type PowerAction string

// Power actions.
const (
	Reboot    PowerAction = "reboot"
	Shutdown  PowerAction = "shutdown"
	ExitAgent PowerAction = "exit"
)

// PowerRequest asks for a power action after Delay, with a message for logged-in users.
type PowerRequest struct {
	Action  PowerAction
	Delay   time.Duration
	Message string
}

// Power carries out power actions; tests replace it.
type Power interface {
	Do(ctx context.Context, req PowerRequest) error
}

// ShellOptions start an interactive session.
type ShellOptions struct {
	Shell string // "" = the runner's
	Cols  uint16
	Rows  uint16
	Env   []string
	Dir   string
}

// Size is a terminal size.
type Size struct{ Cols, Rows uint16 }
