package collectors

// maxCommandLen bounds a process command line in the inventory.
const maxCommandLen = 512

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
