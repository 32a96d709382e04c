package jobs

import (
	"errors"
	"fmt"
)

// Both builders are plain functions of their inputs so each OS's rules are tested everywhere.

// unixArgv builds the argv of a Command on unix; pwsh is the path of PowerShell or "".
func unixArgv(c Command, pwsh string) ([]string, error) {
	if err := checkCommand(c); err != nil {
		return nil, err
	}
	if len(c.Argv) > 0 {
		return c.Argv, nil
	}
	switch c.Shell {
	case "", "sh":
		return []string{"/bin/sh", "-c", c.Line}, nil
	case "powershell", "pwsh":
		if pwsh == "" {
			return nil, fmt.Errorf("jobs: shell %q: pwsh is not installed on this machine", c.Shell)
		}
		return []string{pwsh, "-NoProfile", "-NonInteractive", "-Command", c.Line}, nil
	case "cmd":
		return nil, errors.New("jobs: shell \"cmd\" exists only on Windows")
	default:
		return nil, fmt.Errorf("jobs: unknown shell %q (want sh, cmd or powershell)", c.Shell)
	}
}

// windowsArgv builds the argv of a Command on Windows. cmdline, when set, is the raw command
// line: cmd.exe has its own quoting rules, so the line reaches it verbatim after /S /C.
func windowsArgv(c Command, comspec string) (argv []string, cmdline string, err error) {
	if err := checkCommand(c); err != nil {
		return nil, "", err
	}
	if len(c.Argv) > 0 {
		return c.Argv, "", nil
	}
	switch c.Shell {
	case "", "cmd":
		return []string{comspec}, `cmd.exe /S /C "` + c.Line + `"`, nil
	case "powershell":
		return []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", c.Line}, "", nil
	case "pwsh":
		return []string{"pwsh.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", c.Line}, "", nil
	case "sh":
		return nil, "", errors.New("jobs: shell \"sh\" is not available on Windows")
	default:
		return nil, "", fmt.Errorf("jobs: unknown shell %q (want sh, cmd or powershell)", c.Shell)
	}
}

func checkCommand(c Command) error {
	switch {
	case len(c.Argv) > 0 && c.Line != "":
		return errors.New("jobs: a command has either Line or Argv, not both")
	case len(c.Argv) == 0 && c.Line == "":
		return errors.New("jobs: empty command")
	case len(c.Argv) > 0 && c.Argv[0] == "":
		return errors.New("jobs: empty program name in argv")
	}
	return nil
}
