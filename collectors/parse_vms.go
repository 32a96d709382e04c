package collectors

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// libvirtDomain is the part of a libvirt domain XML we read (etc: the definition; run: the
// same wrapped in <domstatus state="running">).
type libvirtDomain struct {
	Type   string `xml:"type,attr"`
	Name   string `xml:"name"`
	UUID   string `xml:"uuid"`
	Memory struct {
		Unit  string `xml:"unit,attr"`
		Value uint64 `xml:",chardata"`
	} `xml:"memory"`
	VCPU       int    `xml:"vcpu"`
	Descr      string `xml:"description"`
	Interfaces []struct {
		MAC struct {
			Address string `xml:"address,attr"`
		} `xml:"mac"`
	} `xml:"devices>interface"`
}

// ParseLibvirtDomain reads a domain definition or a <domstatus> state file.
func ParseLibvirtDomain(b []byte) (inventory.VirtualMachine, error) {
	var st struct {
		XMLName xml.Name
		State   string        `xml:"state,attr"`
		Domain  libvirtDomain `xml:"domain"`
	}
	if err := xml.Unmarshal(b, &st); err != nil {
		return inventory.VirtualMachine{}, fmt.Errorf("libvirt domain XML: %w", err)
	}
	d, status := st.Domain, st.State
	if st.XMLName.Local == "domain" {
		if err := xml.Unmarshal(b, &d); err != nil {
			return inventory.VirtualMachine{}, fmt.Errorf("libvirt domain XML: %w", err)
		}
		status = "off"
	}
	vm := inventory.VirtualMachine{Name: d.Name, UUID: d.UUID, Status: status, Subsystem: firstStr(d.Type, "kvm"),
		Type: "libvirt", VCPUs: d.VCPU, Comment: strings.TrimSpace(d.Descr)}
	vm.MemoryBytes = d.Memory.Value * libvirtUnit(d.Memory.Unit)
	if len(d.Interfaces) > 0 {
		vm.MAC = d.Interfaces[0].MAC.Address
	}
	return vm, nil
}

func libvirtUnit(u string) uint64 {
	switch strings.ToLower(u) {
	case "b", "bytes":
		return 1
	case "kb":
		return 1000
	case "", "k", "kib":
		return 1 << 10
	case "mb":
		return 1e6
	case "m", "mib":
		return 1 << 20
	case "gb":
		return 1e9
	case "g", "gib":
		return 1 << 30
	}
	return 1 << 10
}

// ParseDockerContainer reads a container's config.v2.json (and, optionally, hostconfig.json
// for the memory limit and CPUs) from Docker's state folder.
func ParseDockerContainer(config, hostConfig []byte) (inventory.VirtualMachine, error) {
	var c struct {
		ID     string
		Name   string
		Config struct {
			Image    string
			Hostname string
		}
		State struct {
			Running, Paused, Restarting, Dead bool
		}
		NetworkSettings struct {
			Networks map[string]struct{ MacAddress string }
		}
	}
	if err := json.Unmarshal(config, &c); err != nil {
		return inventory.VirtualMachine{}, fmt.Errorf("docker config.v2.json: %w", err)
	}
	vm := inventory.VirtualMachine{Name: strings.TrimPrefix(c.Name, "/"), UUID: c.ID, Subsystem: "Docker", Type: "docker", Image: c.Config.Image}
	switch {
	case c.State.Paused:
		vm.Status = "paused"
	case c.State.Restarting || c.State.Running:
		vm.Status = "running"
	case c.State.Dead:
		vm.Status = "crashed"
	default:
		vm.Status = "off"
	}
	for _, n := range c.NetworkSettings.Networks {
		if n.MacAddress != "" {
			vm.MAC = n.MacAddress
			break
		}
	}
	if len(hostConfig) > 0 {
		var h struct {
			Memory   int64
			NanoCpus int64
		}
		if json.Unmarshal(hostConfig, &h) == nil {
			if h.Memory > 0 {
				vm.MemoryBytes = uint64(h.Memory)
			}
			if h.NanoCpus > 0 {
				vm.VCPUs = int((h.NanoCpus + 999_999_999) / 1_000_000_000)
			}
		}
	}
	return vm, nil
}

// ParsePodmanContainers reads containers/storage's containers.json (the container list every
// podman/buildah/cri-o container is in); podman's own containers carry the image name and
// container name in their metadata.
func ParsePodmanContainers(b []byte) ([]inventory.VirtualMachine, error) {
	var list []struct {
		ID       string   `json:"id"`
		Names    []string `json:"names"`
		Image    string   `json:"image"`
		Metadata string   `json:"metadata"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("podman containers.json: %w", err)
	}
	var out []inventory.VirtualMachine
	for _, c := range list {
		var md struct {
			ImageName string `json:"image-name"`
			Name      string `json:"name"`
		}
		_ = json.Unmarshal([]byte(c.Metadata), &md)
		name := md.Name
		if name == "" && len(c.Names) > 0 {
			name = c.Names[0]
		}
		if name == "" {
			continue
		}
		out = append(out, inventory.VirtualMachine{Name: name, UUID: c.ID, Subsystem: "Podman", Type: "podman", Image: firstStr(md.ImageName, c.Image)})
	}
	return out, nil
}

// ParseLXCConfig reads an LXC container's config file (lxc.* = value lines).
func ParseLXCConfig(name string, b []byte) inventory.VirtualMachine {
	vm := inventory.VirtualMachine{Name: name, Subsystem: "lxc", Type: "lxc"}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(strings.TrimSpace(k), "#") {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "lxc.uts.name" || k == "lxc.utsname":
			vm.Name = firstStr(v, vm.Name)
		case strings.HasSuffix(k, ".hwaddr") && vm.MAC == "":
			vm.MAC = v
		case k == "lxc.cgroup2.memory.max" || k == "lxc.cgroup.memory.limit_in_bytes":
			vm.MemoryBytes = parseByteSize(v)
		case k == "lxc.cgroup2.cpuset.cpus" || k == "lxc.cgroup.cpuset.cpus":
			vm.VCPUs = cpusetCount(v)
		}
	}
	return vm
}

// parseByteSize reads a cgroup size ("536870912", "512M", "2G").
func parseByteSize(s string) uint64 {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}

// cpusetCount counts the CPUs of a cpuset list ("0-3,6").
func cpusetCount(s string) int {
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				continue
			}
		}
		n += b - a + 1
	}
	return n
}

// ParseVirtualBoxMachine reads a .vbox machine file.
func ParseVirtualBoxMachine(b []byte) (inventory.VirtualMachine, error) {
	var f struct {
		Machine struct {
			UUID     string `xml:"uuid,attr"`
			Name     string `xml:"name,attr"`
			Hardware struct {
				CPU struct {
					Count int `xml:"count,attr"`
				} `xml:"CPU"`
				Memory struct {
					RAMSize uint64 `xml:"RAMSize,attr"`
				} `xml:"Memory"`
				Adapters []struct {
					Enabled bool   `xml:"enabled,attr"`
					MAC     string `xml:"MACAddress,attr"`
				} `xml:"Network>Adapter"`
			} `xml:"Hardware"`
			Description string `xml:"Description"`
		} `xml:"Machine"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		return inventory.VirtualMachine{}, fmt.Errorf("VirtualBox machine file: %w", err)
	}
	m := f.Machine
	vm := inventory.VirtualMachine{Name: m.Name, UUID: strings.Trim(m.UUID, "{}"), Subsystem: "Oracle VM VirtualBox",
		Type: "virtualbox", VCPUs: max(m.Hardware.CPU.Count, 1), MemoryBytes: m.Hardware.Memory.RAMSize << 20,
		Comment: strings.TrimSpace(m.Description)}
	for _, a := range m.Hardware.Adapters {
		if a.Enabled && len(a.MAC) == 12 {
			vm.MAC = strings.ToLower(a.MAC[0:2] + ":" + a.MAC[2:4] + ":" + a.MAC[4:6] + ":" + a.MAC[6:8] + ":" + a.MAC[8:10] + ":" + a.MAC[10:12])
			break
		}
	}
	return vm, nil
}

// ParseVirtualBoxRegistry lists the .vbox files VirtualBox.xml registers (paths relative to
// the folder holding VirtualBox.xml are resolved against it).
func ParseVirtualBoxRegistry(b []byte, dir string) []string {
	var f struct {
		Entries []struct {
			Src string `xml:"src,attr"`
		} `xml:"Global>MachineRegistry>MachineEntry"`
	}
	if xml.Unmarshal(b, &f) != nil {
		return nil
	}
	var out []string
	for _, e := range f.Entries {
		p := e.Src
		if !filepath.IsAbs(p) && !strings.Contains(p, ":\\") {
			p = filepath.Join(dir, p)
		}
		out = append(out, p)
	}
	return out
}
