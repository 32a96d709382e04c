package selfupdate

import (
	"fmt"
	"os"
	"os/exec"
)

// Restart starts exe again and returns: Windows cannot replace a running process image, so
// the caller exits after this. Under the service manager the caller exits non-zero instead
// and the service's recovery action starts the new binary.
func Restart(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("selfupdate: start %s: %w", exe, err)
	}
	return cmd.Process.Release()
}
