// Package version holds the build stamp set by the Makefile through -ldflags.
package version

import (
	"fmt"
	"runtime"
)

// Set with -ldflags "-X github.com/omniagent/omniagent/version.Version=...".
// These are the only package-level variables in the project: the linker can only stamp those.
var (
	Version = "0.0.0-dev"
	Commit  = "unknown"
	Date    = "unknown"
	// BrokenBuild, when stamped non-empty, makes the daemon exit with an error right after its
	// self-update check: the self-update tests build a release that crashes at start with it.
	// No real build sets it.
	BrokenBuild = ""
)

// UserAgent is the User-Agent header every adapter sends unless its protocol demands another.
func UserAgent() string { return "omniagent/" + Version }

// String is the one-line form printed by `omniagent version`.
func String() string {
	return fmt.Sprintf("omniagent %s (commit %s, built %s, %s %s/%s)", Version, Commit, Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
