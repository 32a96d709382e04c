package collectors

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/limitread"
)

// vmRoots are the state folders read for hosted machines; a test points them at a fake tree.
type vmRoots struct {
	Root string // prefix for every path ("" on a real system)
}

func (r vmRoots) p(path string) string { return filepath.Join(r.Root, path) }

// collectVirtualMachines lists the VMs and containers this machine hosts from the state files
// of libvirt, Docker, Podman, LXC, systemd-nspawn/machined and VirtualBox. Nothing is started
// and no daemon is asked: a stopped daemon still leaves its state folder.
func collectVirtualMachines(ctx context.Context, inv *inventory.Inventory) error {
	inv.VirtualMachines = vmRoots{}.collect(ctx)
	return nil
}

func (r vmRoots) collect(ctx context.Context) []inventory.VirtualMachine {
	var out []inventory.VirtualMachine
	for _, f := range []func() []inventory.VirtualMachine{r.libvirt, r.docker, r.podman, r.lxc, r.nspawn, r.virtualbox} {
		if ctx.Err() != nil {
			break
		}
		out = append(out, f()...)
	}
	return out
}

// libvirt: running domains have a status file in /run/libvirt/qemu, every defined one a
// definition in /etc/libvirt/qemu.
func (r vmRoots) libvirt() []inventory.VirtualMachine {
	byUUID := map[string]int{}
	var out []inventory.VirtualMachine
	for _, dir := range []string{"/run/libvirt/qemu", "/etc/libvirt/qemu"} {
		files, _ := filepath.Glob(r.p(filepath.Join(dir, "*.xml")))
		sort.Strings(files)
		for _, f := range files {
			b, err := limitread.File(f, 4<<20)
			if err != nil {
				continue
			}
			vm, err := ParseLibvirtDomain(b)
			if err != nil || vm.Name == "" {
				continue
			}
			if _, dup := byUUID[vm.UUID]; dup && vm.UUID != "" {
				continue // defined and running: the running state was read first
			}
			byUUID[vm.UUID] = len(out)
			out = append(out, vm)
		}
	}
	return out
}

func (r vmRoots) docker() []inventory.VirtualMachine {
	dirs, _ := filepath.Glob(r.p("/var/lib/docker/containers/*"))
	sort.Strings(dirs)
	var out []inventory.VirtualMachine
	for _, d := range dirs {
		cfg, err := limitread.File(filepath.Join(d, "config.v2.json"), 8<<20)
		if err != nil {
			continue
		}
		host, _ := limitread.File(filepath.Join(d, "hostconfig.json"), 1<<20)
		if vm, err := ParseDockerContainer(cfg, host); err == nil && vm.Name != "" {
			out = append(out, vm)
		}
	}
	return out
}

// podman (rootful): containers/storage's list; running when the container's pidfile in the
// run folder names a live process.
func (r vmRoots) podman() []inventory.VirtualMachine {
	b, err := limitread.File(r.p("/var/lib/containers/storage/overlay-containers/containers.json"), 16<<20)
	if err != nil {
		return nil
	}
	vms, _ := ParsePodmanContainers(b)
	for i := range vms {
		vms[i].Status = "off"
		pid := readStr(r.p(filepath.Join("/run/containers/storage/overlay-containers", vms[i].UUID, "userdata", "pidfile")))
		if pid != "" && fileExists(r.p(filepath.Join("/proc", pid))) {
			vms[i].Status = "running"
		}
	}
	return vms
}

// lxc: one folder per container; running when its cgroup exists.
func (r vmRoots) lxc() []inventory.VirtualMachine {
	cfgs, _ := filepath.Glob(r.p("/var/lib/lxc/*/config"))
	sort.Strings(cfgs)
	var out []inventory.VirtualMachine
	for _, c := range cfgs {
		b, err := limitread.File(c, 1<<20)
		if err != nil {
			continue
		}
		name := filepath.Base(filepath.Dir(c))
		vm := ParseLXCConfig(name, b)
		vm.Status = "off"
		if fileExists(r.p("/sys/fs/cgroup/lxc.payload."+name)) || fileExists(r.p("/sys/fs/cgroup/lxc/"+name)) {
			vm.Status = "running"
		}
		out = append(out, vm)
	}
	return out
}

// nspawn: machined registers running machines in /run/systemd/machines (KEY=VALUE files);
// images in /var/lib/machines that are not running are listed as off.
func (r vmRoots) nspawn() []inventory.VirtualMachine {
	var out []inventory.VirtualMachine
	running := map[string]bool{}
	files, _ := filepath.Glob(r.p("/run/systemd/machines/*"))
	sort.Strings(files)
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "unit:") {
			continue // machined's unit → machine index
		}
		kv := readKV(f)
		if kv == nil || kv["NAME"] == "" || kv["CLASS"] != "container" {
			continue // VMs registered by libvirt are listed above
		}
		running[kv["NAME"]] = true
		out = append(out, inventory.VirtualMachine{Name: kv["NAME"], UUID: formatUUID(kv["ID"]), Status: "running",
			Subsystem: "systemd-nspawn", Type: "nspawn", Comment: kv["ROOT"]})
	}
	images, _ := readDir(r.p("/var/lib/machines"))
	for _, e := range images {
		name := strings.TrimSuffix(e.Name(), ".raw")
		if running[name] || strings.HasPrefix(name, ".") {
			continue
		}
		out = append(out, inventory.VirtualMachine{Name: name, Status: "off", Subsystem: "systemd-nspawn", Type: "nspawn"})
	}
	return out
}

// formatUUID dashes a 32-hex-digit id (machined's ID=).
func formatUUID(s string) string {
	if len(s) != 32 {
		return s
	}
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// virtualbox: each user's VirtualBox.xml registry, then each registered .vbox file.
func (r vmRoots) virtualbox() []inventory.VirtualMachine {
	var regs []string
	for _, g := range []string{"/root/.config/VirtualBox/VirtualBox.xml", "/home/*/.config/VirtualBox/VirtualBox.xml", "/root/.VirtualBox/VirtualBox.xml", "/home/*/.VirtualBox/VirtualBox.xml"} {
		m, _ := filepath.Glob(r.p(g))
		regs = append(regs, m...)
	}
	var out []inventory.VirtualMachine
	for _, reg := range regs {
		b, err := limitread.File(reg, 4<<20)
		if err != nil {
			continue
		}
		owner := ""
		if rest, ok := strings.CutPrefix(reg, r.p("/home")+"/"); ok {
			owner, _, _ = strings.Cut(rest, "/")
		} else if strings.HasPrefix(reg, r.p("/root")) {
			owner = "root"
		}
		for _, f := range ParseVirtualBoxRegistry(b, filepath.Dir(reg)) {
			if r.Root != "" && !strings.HasPrefix(f, r.Root) {
				f = r.p(f)
			}
			mb, err := limitread.File(f, 4<<20)
			if err != nil {
				continue
			}
			if vm, err := ParseVirtualBoxMachine(mb); err == nil && vm.Name != "" {
				vm.Owner = owner
				out = append(out, vm)
			}
		}
	}
	return out
}
