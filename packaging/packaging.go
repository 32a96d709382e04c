// Package packaging holds the service definitions omniagent ships (the systemd unit and the
// launchd plist) and renders them for a given executable and arguments, so the .deb/.rpm files
// and what `omniagent install` writes are the same text.
package packaging

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"strings"
)

// Default locations baked into the shipped files.
const (
	LinuxBinary  = "/usr/bin/omniagent"
	DarwinBinary = "/usr/local/bin/omniagent"
	// ServiceName is the systemd unit name, launchd label and Windows service name.
	ServiceName = "omniagent"
)

//go:embed omniagent.service
var systemdUnit string

//go:embed omniagent.plist
var launchdPlist string

// SystemdUnitFile is the unit exactly as shipped in the packages.
func SystemdUnitFile() string { return systemdUnit }

// LaunchdPlistFile is the plist exactly as shipped in the macOS tarball.
func LaunchdPlistFile() string { return launchdPlist }

const execStartDefault = "ExecStart=" + LinuxBinary + " run"

// SystemdUnit renders the unit for exe with args (typically "run", "--config", FILE).
func SystemdUnit(exe string, args []string) (string, error) {
	if !strings.Contains(systemdUnit, execStartDefault+"\n") {
		return "", fmt.Errorf("packaging: shipped unit has no %q line", execStartDefault)
	}
	words := make([]string, 0, len(args)+1)
	for _, a := range append([]string{exe}, args...) {
		q, err := systemdQuote(a)
		if err != nil {
			return "", err
		}
		words = append(words, q)
	}
	return strings.Replace(systemdUnit, execStartDefault+"\n", "ExecStart="+strings.Join(words, " ")+"\n", 1), nil
}

// systemdQuote quotes one ExecStart word: systemd splits on spaces, expands $VAR and %-specifiers.
func systemdQuote(s string) (string, error) {
	if s == "" {
		return `""`, nil
	}
	if strings.ContainsAny(s, "\n\r\x00") {
		return "", fmt.Errorf("packaging: argument %q contains a control character", s)
	}
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if !strings.ContainsAny(s, " \t\"'\\;") {
		return s, nil
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`, nil
}

const plistArgsDefault = "\t\t<string>" + DarwinBinary + "</string>\n\t\t<string>run</string>\n"

// LaunchdPlist renders the plist for exe with args.
func LaunchdPlist(exe string, args []string) (string, error) {
	if !strings.Contains(launchdPlist, plistArgsDefault) {
		return "", fmt.Errorf("packaging: shipped plist has no default ProgramArguments")
	}
	var b strings.Builder
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>")
		if err := xml.EscapeText(&b, []byte(a)); err != nil {
			return "", fmt.Errorf("packaging: escape %q: %w", a, err)
		}
		b.WriteString("</string>\n")
	}
	return strings.Replace(launchdPlist, plistArgsDefault, b.String(), 1), nil
}
