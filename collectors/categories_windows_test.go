package collectors

import (
	"context"
	"testing"
	"time"
)

// These run on a real Windows machine (CI); here they are compiled by the cross-build vet.

func TestWindowsCategoriesListed(t *testing.T) {
	want := []string{"system", "os", "cpu", "memory", "gpu", "controllers", "disks", "volumes", "network", "monitors",
		"printers", "software", "users", "logins", "antivirus", "batteries", "usb", "processes", "envs", "firewalls",
		"ports", "slots", "powersupplies", "sounds", "inputs", "modems", "cameras", "remote_mgmt", "virtualmachines", "databases",
		"licenses", "hotfixes"}
	checkCategories(t, categories(), want)
}

func TestWindowsCollectThisMachine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv, err := Collect(ctx, Options{CategoryTimeout: 30 * time.Second, Now: time.Now}, categories())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Meta.Categories {
		t.Logf("%-10s %6.3fs %s", c.Name, c.Duration, c.Error)
	}
	if inv.OS.Family != "windows" || inv.OS.Name == "" || inv.OS.Build == "" {
		t.Errorf("os = %+v", inv.OS)
	}
	if len(inv.CPUs) == 0 || inv.CPUs[0].Model == "" || inv.Memory.TotalBytes == 0 {
		t.Errorf("cpu %+v memory %+v", inv.CPUs, inv.Memory)
	}
	if len(inv.Volumes) == 0 || len(inv.Networks) == 0 || len(inv.Software) == 0 {
		t.Errorf("volumes %d networks %d software %d", len(inv.Volumes), len(inv.Networks), len(inv.Software))
	}
	for _, name := range []string{"system", "os", "cpu", "memory", "volumes", "network", "software"} {
		if r := resultOf(t, inv, name); r.Error != "" {
			t.Errorf("%s: %s", name, r.Error)
		}
	}
}
