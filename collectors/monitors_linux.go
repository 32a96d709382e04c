package collectors

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// collectMonitors decodes the EDID of every connected DRM connector.
func collectMonitors(_ context.Context, inv *inventory.Inventory) error {
	paths, _ := filepath.Glob("/sys/class/drm/card*-*/edid")
	var errs []error
	for _, p := range paths {
		dir := filepath.Dir(p)
		if st := readStr(filepath.Join(dir, "status")); st != "" && st != "connected" {
			continue
		}
		b, err := readFile(p)
		if err != nil {
			continue
		}
		m, err := ParseEDID(b)
		if errors.Is(err, ErrNoEDID) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(dir), err))
			continue
		}
		m.Port = filepath.Base(dir)
		if m.Name == "" {
			m.Name = strings.TrimSpace(m.Manufacturer + " " + m.ProductCode)
		}
		inv.Monitors = append(inv.Monitors, m)
	}
	return errors.Join(errs...)
}
