package installer

// syscallUmask: Windows has no umask.
func syscallUmask(int) int { return 0 }
