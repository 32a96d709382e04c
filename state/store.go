package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// SchemaVersion is written in every state file; a newer one is refused instead of misread.
const SchemaVersion = 1

// Store is an opened state directory.
type Store struct {
	dir string
	mu  sync.Mutex
	hs  map[string]*Handle
}

// Open creates the directory (0700) if needed and returns the store.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state directory: empty path")
	}
	for _, d := range []string{dir, filepath.Join(dir, "servers"), filepath.Join(dir, "status"), filepath.Join(dir, "spool")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	_ = os.Chmod(dir, 0o700)
	return &Store{dir: dir, hs: map[string]*Handle{}}, nil
}

// OpenExisting opens a state directory for reading only (no folder is created).
func OpenExisting(dir string) (*Store, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Store{dir: dir, hs: map[string]*Handle{}}, nil
}

// Dir is the state directory's path.
func (s *Store) Dir() string { return s.dir }

// safeName is ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$, checked by hand: the regexp's bounded
// repetition compiles into 128 copies (1 700 allocations at start-up).
func safeName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// ValidName tells whether a server name can name its state files.
func ValidName(name string) error {
	if !safeName(name) {
		return fmt.Errorf("server name %q: use letters, digits, '.', '_' and '-' (at most 128, not starting with a dot)", name)
	}
	return nil
}

// Server returns the handle of one server's state (always the same handle for one name).
func (s *Store) Server(name string) *Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hs[name]; ok {
		return h
	}
	h := &Handle{store: s, name: name, path: filepath.Join(s.dir, "servers", name+".json")}
	s.hs[name] = h
	return h
}

// Agent returns the handle of the agent's own identity file.
func (s *Store) Agent() *Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	const key = "\x00agent"
	if h, ok := s.hs[key]; ok {
		return h
	}
	h := &Handle{store: s, name: "agent", path: filepath.Join(s.dir, "agent.json")}
	s.hs[key] = h
	return h
}

// Handle reads and writes one JSON state file.
type Handle struct {
	store *Store
	name  string
	path  string

	mu      sync.Mutex
	corrupt error
}

type envelope struct {
	Schema int             `json:"schema"`
	Saved  time.Time       `json:"saved"`
	Data   json.RawMessage `json:"data"`
}

// Path is the file behind the handle.
func (h *Handle) Path() string { return h.path }

// Load decodes the file into v. found is false when the file does not exist yet. A corrupt
// file is an error naming it, and the handle then refuses to overwrite it: it may hold keys.
func (h *Handle) Load(v any) (found bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, err := os.ReadFile(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state file %s: %w", h.path, err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Schema == 0 {
		if err == nil {
			err = errors.New("no schema version")
		}
		h.corrupt = fmt.Errorf("state file %s is corrupt (%v); it is kept as is, move it away to start afresh", h.path, err)
		return false, h.corrupt
	}
	if env.Schema > SchemaVersion {
		h.corrupt = fmt.Errorf("state file %s has schema %d, newer than this agent's %d", h.path, env.Schema, SchemaVersion)
		return false, h.corrupt
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		h.corrupt = fmt.Errorf("state file %s is corrupt (%v); it is kept as is, move it away to start afresh", h.path, err)
		return false, h.corrupt
	}
	h.corrupt = nil
	return true, nil
}

// Save writes v atomically with mode 0600.
func (h *Handle) Save(v any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.corrupt != nil {
		return fmt.Errorf("refusing to overwrite: %w", h.corrupt)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode state for %s: %w", h.name, err)
	}
	out, err := json.MarshalIndent(envelope{Schema: SchemaVersion, Saved: time.Now().UTC(), Data: data}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state for %s: %w", h.name, err)
	}
	return WriteFileAtomic(h.path, append(out, '\n'), 0o600)
}

// SpoolDir returns (creating it, 0700) the server's folder for downloads and queued payloads.
func (h *Handle) SpoolDir() (string, error) {
	d := filepath.Join(h.store.dir, "spool", h.name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("spool folder for %s: %w", h.name, err)
	}
	return d, nil
}
