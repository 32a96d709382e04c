//go:build unix && !linux && !darwin

package jobs

// procIdentity: not available here; no record is kept.
func procIdentity(int) (start, boot string, ok bool) { return "", "", false }
