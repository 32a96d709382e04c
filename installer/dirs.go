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

// ExampleName is the commented example config shipped next to the binary (zip, MSI).
const ExampleName = "agent.toml.example"

// SeedConfig writes configPath, when it does not exist, from the example next to exe, or from
// fallback when there is none, and creates the state folder (see PrepareDirs). The MSI ships
// only the example: the Windows service seeds its config at first start, so no uninstall,
// repair or upgrade of the MSI can remove or replace a config an admin edited.
func SeedConfig(configPath, stateDir, exe string, fallback []byte) (wrote bool, err error) {
	content := fallback
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(exe), ExampleName)); err == nil && len(b) > 0 {
		content = b
	}
	return PrepareDirs(configPath, stateDir, content)
}
