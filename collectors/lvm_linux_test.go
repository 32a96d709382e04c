package collectors

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lvmConfig lets the lvm tools work on a loop device inside a container: no udev, no devices
// file, no device-mapper (LVs are created inactive).
const lvmConfig = `devices { use_devicesfile=0 obtain_device_list_from_udev=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 }`

// needTool skips (or fails under CI) when a tool the test needs is missing.
func needTool(t *testing.T, pkg string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (Debian package %s)", n, pkg)
			}
			t.Skipf("%s is missing: install the Debian package %s", n, pkg)
		}
	}
}

func lvmRun(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "lvm", append(args[:1:1], append([]string{"--config", lvmConfig}, args[1:]...)...)...)
	cmd.Env = append(os.Environ(), "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lvm %v: %v", args, err)
	}
	return out
}

// TestLVMOnLoopDevice builds a real volume group on a loop device with lvm2 and checks that
// reading the on-disk metadata gives what lvm's own JSON report says.
func TestLVMOnLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the LVM test needs root (loop devices)")
		}
		t.Skip("the LVM test needs root (loop devices)")
	}
	needTool(t, "lvm2", "lvm")
	needTool(t, "mount", "losetup")
	img := filepath.Join(t.TempDir(), "pv.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).Output()
	if err != nil {
		t.Skipf("no loop device available here: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
	vg := "omnitest" + strconv.Itoa(os.Getpid())
	lvmRun(t, "pvcreate", "-y", loop)
	lvmRun(t, "vgcreate", vg, loop)
	lvmRun(t, "lvcreate", "--driverloaded", "n", "-an", "-Zn", "-L", "8M", "-n", "data", vg)
	lvmRun(t, "lvcreate", "--driverloaded", "n", "-an", "-Zn", "-L", "12M", "-n", "my-logs", vg)

	// lvm's own JSON report, in bytes, is the reference.
	type report struct {
		Report []struct {
			PV []map[string]string `json:"pv"`
			VG []map[string]string `json:"vg"`
			LV []map[string]string `json:"lv"`
		} `json:"report"`
	}
	lvmReport := func(args ...string) report {
		var r report
		if err := json.Unmarshal(lvmRun(t, args...), &r); err != nil || len(r.Report) == 0 {
			t.Fatalf("lvm %s report: %v", args[0], err)
		}
		return r
	}
	wantPV := lvmReport("pvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,pv_uuid,pv_size,pv_free,pv_pe_count,pv_attr,vg_uuid", loop).Report[0].PV
	wantVG := lvmReport("vgs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name,vg_uuid,vg_size,vg_free,pv_count,lv_count,vg_extent_size,vg_attr", vg).Report[0].VG
	wantLV := lvmReport("lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_uuid,lv_size,seg_count,vg_uuid", vg).Report[0].LV
	if len(wantPV) != 1 || len(wantVG) != 1 || len(wantLV) != 2 {
		t.Fatalf("lvm reports: %v %v %v", wantPV, wantVG, wantLV)
	}

	pvs, err := scanLVM(context.Background(), "/sys/class/block", "/dev")
	if err != nil {
		t.Fatal(err)
	}
	r := LVMFromMetadata(pvs, nil)
	n := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }

	var foundPV bool
	for _, p := range r.PVs {
		if p.Device != loop {
			continue
		}
		foundPV = true
		w := wantPV[0]
		if p.UUID != w["pv_uuid"] || p.SizeBytes != n(w["pv_size"]) || p.FreeBytes != n(w["pv_free"]) ||
			p.PECount != n(w["pv_pe_count"]) || p.Attr != w["pv_attr"] || p.VGUUID != w["vg_uuid"] {
			t.Errorf("PV = %+v\nlvm says %v", p, w)
		}
	}
	if !foundPV {
		t.Fatalf("PV %s not found in %+v", loop, r.PVs)
	}
	var foundVG bool
	for _, g := range r.VGs {
		if g.Name != vg {
			continue
		}
		foundVG = true
		w := wantVG[0]
		if g.UUID != w["vg_uuid"] || g.SizeBytes != n(w["vg_size"]) || g.FreeBytes != n(w["vg_free"]) ||
			strconv.Itoa(g.PVCount) != w["pv_count"] || strconv.Itoa(g.LVCount) != w["lv_count"] ||
			g.ExtentBytes != n(w["vg_extent_size"]) || g.Attr != w["vg_attr"] {
			t.Errorf("VG = %+v\nlvm says %v", g, w)
		}
	}
	if !foundVG {
		t.Fatalf("VG %s not found in %+v", vg, r.VGs)
	}
	got := map[string]bool{}
	for _, l := range r.LVs {
		if l.VGName != vg {
			continue
		}
		for _, w := range wantLV {
			if w["lv_name"] == l.Name {
				got[l.Name] = true
				if l.UUID != w["lv_uuid"] || l.SizeBytes != n(w["lv_size"]) || strconv.Itoa(l.Segments) != w["seg_count"] || l.VGUUID != w["vg_uuid"] {
					t.Errorf("LV = %+v\nlvm says %v", l, w)
				}
			}
		}
	}
	if len(got) != 2 {
		t.Errorf("LVs found %v, want data and my-logs: %+v", got, r.LVs)
	}
}

func TestSplitDMName(t *testing.T) {
	for _, c := range []struct{ in, vg, lv string }{
		{"vg0-root", "vg0", "root"},
		{"my--vg-my--lv", "my-vg", "my-lv"},
		{"debian--vg-swap_1", "debian-vg", "swap_1"},
	} {
		vg, lv, ok := splitDMName(c.in)
		if !ok || vg != c.vg || lv != c.lv {
			t.Errorf("splitDMName(%q) = %q %q %v", c.in, vg, lv, ok)
		}
	}
	if _, _, ok := splitDMName("nodash"); ok {
		t.Error("a name without a separator split")
	}
}
