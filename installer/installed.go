package installer

import (
	"os"

	"github.com/omniagent/omniagent/packaging"
)

// serviceFiles are where a service definition of omniagent lives on goos: by `omniagent
// install` (kardianos) or by the .deb/.rpm package. Windows keeps services in the SCM only.
func serviceFiles(goos string) []string {
	n := packaging.ServiceName
	switch goos {
	case "linux":
		return []string{"/etc/systemd/system/" + n + ".service", "/lib/systemd/system/" + n + ".service",
			"/usr/lib/systemd/system/" + n + ".service", "/etc/init.d/" + n}
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
