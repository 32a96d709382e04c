package oco

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// checkArgv picks the interpreter by extension, as the official agent's Windows checks do.
func checkArgv(path string) ([]string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".exe":
		return []string{path}, nil
	case ".bat", ".cmd":
		return []string{"cmd.exe", "/d", "/c", path}, nil
	case ".ps1":
		return []string{"powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", path}, nil
	}
	return nil, errors.New("not a program (.exe, .bat, .cmd or .ps1)")
}

// checkOwner requires the owner to be Administrators, SYSTEM or TrustedInstaller, the
// accounts an unprivileged user cannot act as.
func checkOwner(path string, _ bool) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read owner: %w", err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("read owner: %w", err)
	}
	for _, known := range []windows.WELL_KNOWN_SID_TYPE{windows.WinBuiltinAdministratorsSid, windows.WinLocalSystemSid} {
		if sid, err := windows.CreateWellKnownSid(known); err == nil && owner.Equals(sid) {
			return nil
		}
	}
	if ti, err := windows.StringToSid("S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"); err == nil && owner.Equals(ti) {
		return nil
	}
	return fmt.Errorf("owned by %s, not Administrators or SYSTEM", owner.String())
}
