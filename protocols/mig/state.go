package mig

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
)

// persisted is the per-server state file. Only the queueloc needs keeping: commands are acked on
// receipt and never replayed.
type persisted struct {
	Schema   int    `json:"schema"`
	QueueLoc string `json:"queueloc"`
	// Imported names the .migagtid file the ID came from, if any.
	Imported string `json:"imported,omitempty"`
}

// idLen is the length of a generated agent ID; MIG requires at least 80 alphanumerics.
const idLen = 80

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newAgentID draws idLen characters from a CSPRNG without modulo bias.
func newAgentID() (string, error) {
	out := make([]byte, 0, idLen)
	buf := make([]byte, 2*idLen)
	for len(out) < idLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random agent id: %w", err)
		}
		for _, b := range buf {
			// 62*4 = 248: values at or above are rejected to keep the draw uniform.
			if b < 248 && len(out) < idLen {
				out = append(out, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(out), nil
}

// validAgentID reports whether id is MIG-acceptable: at least 80 alphanumerics.
func validAgentID(id string) bool {
	if len(id) < idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

// readMIGAgentID reads MIG's .migagtid (the ID alone, maybe with a trailing newline).
func readMIGAgentID(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("import_agent_id: %w", err)
	}
	id := strings.TrimSpace(string(raw))
	if !validAgentID(id) {
		return "", fmt.Errorf("import_agent_id %s: not a MIG agent id (want at least %d letters and digits)", path, idLen)
	}
	return id, nil
}

// loadQueueLoc returns the persisted queueloc, creating (or importing) it the first time.
func (a *Adapter) loadQueueLoc() (string, error) {
	var st persisted
	found, err := a.d.State.Load(&st)
	if err != nil {
		return "", fmt.Errorf("mig %s: state: %w", a.d.Server.Name, err)
	}
	if found && st.QueueLoc != "" {
		goos, id, ok := strings.Cut(st.QueueLoc, ".")
		if !ok || goos == "" || !validAgentID(id) {
			return "", fmt.Errorf("mig %s: state file %s holds an invalid queueloc %q; move it away to start afresh", a.d.Server.Name, a.d.State.Path(), st.QueueLoc)
		}
		return st.QueueLoc, nil
	}
	var id string
	if a.opts.ImportAgentID != "" {
		id, err = readMIGAgentID(a.opts.ImportAgentID)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("mig %s: %w", a.d.Server.Name, err)
		}
		if id != "" {
			st.Imported = a.opts.ImportAgentID
		} else {
			a.log.Warn("mig: import_agent_id file not found; generating a new agent id", "path", a.opts.ImportAgentID)
		}
	}
	if id == "" {
		if id, err = newAgentID(); err != nil {
			return "", fmt.Errorf("mig %s: %w", a.d.Server.Name, err)
		}
	}
	st.Schema = 1
	st.QueueLoc = a.goos + "." + id
	if err := a.d.State.Save(&st); err != nil {
		return "", fmt.Errorf("mig %s: save state: %w", a.d.Server.Name, err)
	}
	return st.QueueLoc, nil
}
