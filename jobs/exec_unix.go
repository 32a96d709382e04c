//go:build !windows

package jobs

import (
	"os/exec"
	"syscall"
)

// commandArgv turns a Command into the argv to start. cmdline is only used on Windows.
func commandArgv(c Command) (argv []string, cmdline string, err error) {
	pwsh := ""
	if c.Shell == "powershell" || c.Shell == "pwsh" {
		pwsh, _ = exec.LookPath("pwsh")
	}
	argv, err = unixArgv(c, pwsh)
	return argv, "", err
}

// procTree is the process group of one command.
type procTree struct{ pid int }

func prepareTree(cmd *exec.Cmd, _ string) (*procTree, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return &procTree{}, nil
}

func (t *procTree) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	t.pid = cmd.Process.Pid
	return nil
}

// kill ends every process of the group; ESRCH (nothing left) is fine.
func (t *procTree) kill() {
	if t.pid > 0 {
		_ = syscall.Kill(-t.pid, syscall.SIGKILL)
	}
}

// release: nothing to free on unix; leftovers of a normal exit keep running.
func (t *procTree) release() {}
