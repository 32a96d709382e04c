package collectors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/omniagent/omniagent/inventory"
)

// collectPrinters reads the CUPS queues; printers.conf is root-readable only, so an
// unprivileged run reports the permission error.
func collectPrinters(_ context.Context, inv *inventory.Inventory) error {
	b, err := readFile("/etc/cups/printers.conf")
	if errors.Is(err, fs.ErrNotExist) {
		return nil // CUPS not installed or no queue
	}
	if err != nil {
		return fmt.Errorf("read CUPS printers: %w", err)
	}
	inv.Printers = ParseCUPSPrinters(b)
	return nil
}
