package jobs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procsDir is the spool subfolder holding one record per running command.
const procsDir = "procs"

// procRecord is a running command's process group, kept in the spool while it runs, so that
// an agent restarted after a crash (kill -9, power loss of the service only) can end what is
// left of it before the server is told the job was interrupted. Start and Boot identify the
// group's leader against pid reuse.
type procRecord struct {
	PGID    int       `json:"pgid"`
	Start   string    `json:"start"` // the leader's start time as the OS gives it
	Boot    string    `json:"boot"`  // this boot's identity
	Argv0   string    `json:"argv0"`
	Started time.Time `json:"started"`
}

// recordProc writes the record of a command just started; the returned func removes it.
// Failing to write it is logged, not fatal: the job runs as it did before records existed.
func (r *Runner) recordProc(pid int, argv0 string) (remove func()) {
	start, boot, ok := procIdentity(pid)
	if !ok || r.opts.SpoolDir == "" {
		return func() {}
	}
	dir := filepath.Join(r.opts.SpoolDir, procsDir)
	p := filepath.Join(dir, strconv.Itoa(pid)+".json")
	data, _ := json.Marshal(procRecord{PGID: pid, Start: start, Boot: boot, Argv0: filepath.Base(argv0), Started: time.Now().UTC()})
	var err error
	for range 2 { // a second try: another command's end may remove the empty folder meanwhile
		if err = os.MkdirAll(dir, 0o700); err == nil {
			if err = os.WriteFile(p, data, 0o600); err == nil {
				break
			}
		}
	}
	if err != nil {
		r.log.Warn("cannot record the command's process group; a crash of the agent would leave it running", "pid", pid, "err", err)
	}
	return func() {
		_ = os.Remove(p)
		_ = os.Remove(dir) // only when empty: the spool stays as clean as before
	}
}

// KillOrphans ends the process groups of commands that were running when a previous agent
// process died, and forgets their records. Call it once at start, before any adapter reports
// such a job as interrupted, and only while holding the state folder (state.Lock): the records
// are this agent's. It returns how many groups still had processes.
func (r *Runner) KillOrphans() int {
	if r.opts.SpoolDir == "" {
		return 0
	}
	dir := filepath.Join(r.opts.SpoolDir, procsDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("cannot list the process records of previous jobs", "dir", dir, "err", err)
		}
		return 0
	}
	killed := 0
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		var rec procRecord
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		if err != nil || rec.PGID <= 1 {
			r.log.Warn("dropping an unreadable process record", "file", p, "err", err)
			os.Remove(p)
			continue
		}
		n, why := killOrphan(rec)
		if n {
			killed++
			r.log.Warn("killed what was left of a command the previous agent process ran (it died during the job)",
				"pgid", rec.PGID, "argv0", rec.Argv0, "started", rec.Started)
		} else {
			r.log.Info("previous command's processes already gone", "pgid", rec.PGID, "argv0", rec.Argv0, "why", why)
		}
		os.Remove(p)
	}
	_ = os.Remove(dir)
	return killed
}
