//go:build !windows

package installer

import (
	"fmt"
	"runtime"

	"github.com/kardianos/service"
)

// RunService runs prg under the service manager that started us (systemd, launchd) until it
// asks us to stop. kardianos handles SIGTERM on Unix.
func RunService(prg *Program, o Options) error {
	cfg, err := ServiceConfig(runtime.GOOS, o)
	if err != nil {
		return err
	}
	s, err := service.New(prg, cfg)
	if err != nil {
		return fmt.Errorf("installer: service manager: %w", err)
	}
	return s.Run()
}
