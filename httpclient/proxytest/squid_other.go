//go:build !unix

package proxytest

import (
	"os/exec"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
