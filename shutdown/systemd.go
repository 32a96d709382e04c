package shutdown

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Systemd tells a system shutdown from a service stop on a systemd machine. It reads, under
// Root (normally "/"):
//
//  1. systemd's manager over its private socket (run/systemd/private): SystemState "stopping"
//     means shutdown.target was queued; ListJobs then tells a poweroff or halt from a reboot.
//  2. When the socket cannot be used, run/systemd/shutdown/scheduled (written by logind for
//     `shutdown +N`, kept while it runs): a due MODE=poweroff or halt.
//
// A reboot (reboot.target, kexec.target, soft-reboot.target) is not a shutdown here: an
// instance that comes back must keep its record and groups.
type Systemd struct {
	Root   string
	UID    int
	Now    func() time.Time
	Logger *slog.Logger
}

func (s *Systemd) path(p string) string { return filepath.Join(s.Root, filepath.FromSlash(p)) }

// SystemShuttingDown implements Detector.
func (s *Systemd) SystemShuttingDown(ctx context.Context) bool {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(s.path("run/systemd/system")); err != nil {
		log.Debug("shutdown detection: not booted with systemd; checking the scheduled-shutdown file only")
		return s.scheduled()
	}
	down, err := s.ask(ctx, log)
	if err == nil {
		return down
	}
	log.Warn("shutdown detection: cannot ask systemd; falling back to the scheduled-shutdown file", "err", err)
	return s.scheduled()
}

// ask queries the manager: is shutdown.target queued, and for a poweroff/halt?
func (s *Systemd) ask(ctx context.Context, log *slog.Logger) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := dialSystemd(ctx, s.path("run/systemd/private"), s.UID)
	if err != nil {
		return false, err
	}
	defer c.Close()
	state, err := c.systemState()
	if err != nil {
		return false, err
	}
	if state != "stopping" {
		log.Debug("shutdown detection: systemd is not stopping", "state", state)
		return false, nil
	}
	jobs, err := c.listJobs()
	if err != nil {
		return false, err
	}
	down := powerOffJobs(jobs)
	units := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if strings.HasSuffix(j.unit, ".target") {
			units = append(units, j.unit+" "+j.typ)
		}
	}
	log.Debug("shutdown detection: systemd is stopping", "power_off", down, "target_jobs", units)
	return down, nil
}

// powerOffJobs: a poweroff or halt is queued and no reboot is.
func powerOffJobs(jobs []job) bool {
	off := false
	for _, j := range jobs {
		switch j.unit {
		case "reboot.target", "kexec.target", "soft-reboot.target", "systemd-reboot.service", "systemd-kexec.service":
			return false
		case "poweroff.target", "halt.target", "systemd-poweroff.service", "systemd-halt.service":
			off = true
		}
	}
	return off
}

// scheduled reads logind's scheduled-shutdown file: due, and a poweroff or halt.
func (s *Systemd) scheduled() bool {
	f, err := os.Open(s.path("run/systemd/shutdown/scheduled"))
	if err != nil {
		return false
	}
	defer f.Close()
	var usec int64
	var mode string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "USEC":
			usec, _ = strconv.ParseInt(v, 10, 64)
		case "MODE":
			mode = v
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	due := usec > 0 && !time.UnixMicro(usec).After(now())
	return due && (mode == "poweroff" || mode == "halt")
}
