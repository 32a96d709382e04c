//go:build !windows

package glpi

import "errors"

// evalRegistry fails off Windows: there is no registry to check.
func evalRegistry(typ, path, want string) (bool, error) {
	if _, _, _, err := regPath(path); err != nil {
		return false, err
	}
	return false, errors.New("registry checks run only on Windows")
}
