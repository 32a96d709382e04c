package collectors

import (
	"context"
	"os"
	"testing"
	"time"
)

// These run on a real Mac (CI); here they are compiled by the cross-build vet.

func TestDarwinCategoriesListed(t *testing.T) {
	want := []string{"system", "os", "cpu", "memory", "gpu", "disks", "volumes", "network", "monitors",
		"printers", "software", "users", "logins", "batteries", "usb", "processes", "envs", "firewalls", "remote_mgmt",
		"databases", "sounds", "inputs", "cameras", "virtualmachines"}
	checkCategories(t, categories(), want)
}

func TestDarwinCollectThisMachine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// system_profiler with applications can take a minute on a busy Mac.
	inv, err := Collect(ctx, Options{CategoryTimeout: 2 * time.Minute, Now: time.Now}, categories())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Meta.Categories {
		t.Logf("%-10s %6.3fs %s", c.Name, c.Duration, c.Error)
	}
	if inv.OS.Name != "macOS" || inv.OS.Version == "" || inv.OS.KernelVersion == "" {
		t.Errorf("os = %+v", inv.OS)
	}
	if len(inv.CPUs) == 0 || inv.CPUs[0].Model == "" || inv.Memory.TotalBytes == 0 || inv.System.Model == "" {
		t.Errorf("system %+v cpu %+v memory %+v", inv.System, inv.CPUs, inv.Memory)
	}
	if len(inv.Software) == 0 || len(inv.Networks) == 0 || len(inv.Volumes) == 0 {
		t.Errorf("software %d networks %d volumes %d", len(inv.Software), len(inv.Networks), len(inv.Volumes))
	}
	if os.Geteuid() == 0 && len(inv.Users) == 0 {
		t.Error("no local users read as root")
	}
}
