package jobs

import (
	"os"
	"strconv"
	"strings"
)

// procIdentity is pid's start time (clock ticks since boot, /proc/PID/stat field 22) and this
// boot's id; ok is false when the process does not exist.
func procIdentity(pid int) (start, boot string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", "", false
	}
	f := strings.Fields(string(b[i+1:])) // field 3 (state) onwards
	if len(f) < 20 {
		return "", "", false
	}
	id, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return f[19], strings.TrimSpace(string(id)), true
}
