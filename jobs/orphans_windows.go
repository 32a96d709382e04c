//go:build windows

package jobs

// procIdentity: no records on Windows. Every command runs in a Job Object created with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the agent dies, however it dies, the OS closes the
// handle and kills the whole tree.
func procIdentity(int) (start, boot string, ok bool) { return "", "", false }

func killOrphan(procRecord) (bool, string) { return false, "Windows: the Job Object ended it" }
