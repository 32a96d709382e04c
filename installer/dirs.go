package installer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PrepareDirs creates the config folder (writing example as the config when there is none) and
// the state folder, both owned by the running user (root/SYSTEM when installing): config 0755
// with the file 0600 (it may hold secrets), state 0700.
func PrepareDirs(configPath, stateDir string, example []byte) (wroteConfig bool, err error) {
	if err := os.MkdirAll(filepath.Dir(configPath), 0o755); err != nil {
		return false, fmt.Errorf("installer: create config folder: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return false, fmt.Errorf("installer: create state folder: %w", err)
	}
	if err := os.Chmod(stateDir, 0o700); err != nil {
		return false, fmt.Errorf("installer: state folder mode: %w", err)
	}
	f, err := os.OpenFile(configPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil // keep the admin's config
	}
	if err != nil {
		return false, fmt.Errorf("installer: create config: %w", err)
	}
	if _, err := f.Write(example); err != nil {
		f.Close()
		return false, fmt.Errorf("installer: write config: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("installer: write config: %w", err)
	}
	return true, nil
}

// Purge removes the config file and the state folder (uninstall --purge).
func Purge(configPath, stateDir string) error {
	var errs []error
	if err := os.Remove(configPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("installer: remove config: %w", err))
	}
	if err := os.RemoveAll(stateDir); err != nil {
		errs = append(errs, fmt.Errorf("installer: remove state: %w", err))
	}
	return errors.Join(errs...)
}
