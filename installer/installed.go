package installer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/omniagent/omniagent/packaging"
)

// serviceFiles are where a service definition of omniagent lives on goos: by `omniagent
// install` or by the .deb/.rpm package. Windows keeps services in the SCM only.
func serviceFiles(goos string) []string {
	n := packaging.ServiceName
	switch goos {
	case "linux":
		return []string{"/etc/systemd/system/" + n + ".service", "/lib/systemd/system/" + n + ".service",
			"/usr/lib/systemd/system/" + n + ".service",
			// SysV script an older omniagent (kardianos/service) wrote on hosts without systemd:
			// status then says "unknown (systemd is not running…)", not "not installed".
			"/etc/init.d/" + n}
	case "darwin":
		return []string{"/Library/LaunchDaemons/" + n + ".plist"}
	}
	return nil
}

// definitelyNotInstalled is true when no service file of this OS exists, so a service manager
// that cannot answer (no systemd running, `systemctl` exit status 1) still gets a plain
// "not installed" rather than "unknown (exit status 1)".
func definitelyNotInstalled(goos string, exists func(string) bool) bool {
	files := serviceFiles(goos)
	if len(files) == 0 {
		return false
	}
	for _, f := range files {
		if exists(f) {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeNew writes a service definition that must not exist yet, mode 0644 whatever the umask
// (systemd and launchd read it as root, tools and admins as anyone).
func writeNew(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("installer: %s already exists: the service is installed (uninstall it first)", path)
	}
	if err != nil {
		return fmt.Errorf("installer: write the service definition: %w", err)
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("installer: write the service definition: %w", err)
	}
	return nil
}
