package collectors

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/lazyre"
)

func collectCPU(ctx context.Context, inv *inventory.Inventory) error {
	b, err := readFile("/proc/cpuinfo")
	if err != nil {
		return fmt.Errorf("read cpuinfo: %w", err)
	}
	cpus := ParseCPUInfo(b)
	maxHz := readUint("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") * 1000
	l2, l3 := cpuCaches("/sys/devices/system/cpu/cpu0/cache")
	arch := unameMachine()
	for i := range cpus {
		if maxHz > 0 {
			cpus[i].MaxSpeedHz = maxHz
		}
		cpus[i].CacheL2Bytes, cpus[i].CacheL3Bytes = l2, l3
		cpus[i].Arch = arch
	}
	// SMBIOS (root only) adds socket names and the rated maximum speed cpufreq may not expose.
	if smb, err := readSMBIOS(ctx); err == nil {
		for i, p := range smb.Processors() {
			if i >= len(cpus) {
				break
			}
			if p.Socket != "" {
				cpus[i].Socket = p.Socket
			}
			if cpus[i].MaxSpeedHz == 0 {
				cpus[i].MaxSpeedHz = p.MaxSpeedHz
			}
			if cpus[i].ID == "" {
				cpus[i].ID = p.ID
			}
		}
	}
	inv.CPUs = cpus
	return nil
}

// cpuInfoBlock is one logical processor's lines.
type cpuInfoBlock map[string]string

var ghzInName = &lazyre.Regexp{Expr: `@\s*([0-9.]+)\s*GHz`}

// ParseCPUInfo groups /proc/cpuinfo's logical processors into physical packages.
func ParseCPUInfo(b []byte) []inventory.CPU {
	var blocks []cpuInfoBlock
	var global = cpuInfoBlock{} // ARM puts "Hardware"/"Serial"/"Model" after the processors
	cur := cpuInfoBlock{}
	flush := func() {
		if _, ok := cur["processor"]; ok {
			blocks = append(blocks, cur)
		} else {
			for k, v := range cur {
				global[k] = v
			}
		}
		cur = cpuInfoBlock{}
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, seen := cur[k]; seen && k == "processor" {
			flush() // no blank line between processors
		}
		cur[k] = strings.TrimSpace(v)
	}
	flush()
	if len(blocks) == 0 {
		return nil
	}
	type pkg struct {
		blocks []cpuInfoBlock
		cores  map[string]bool
	}
	pkgs := map[string]*pkg{}
	var order []string
	for _, bl := range blocks {
		id := bl["physical id"]
		p, ok := pkgs[id]
		if !ok {
			p = &pkg{cores: map[string]bool{}}
			pkgs[id] = p
			order = append(order, id)
		}
		p.blocks = append(p.blocks, bl)
		if c, ok := bl["core id"]; ok {
			p.cores[c] = true
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return atoiOr(order[i], 0) < atoiOr(order[j], 0) })
	var out []inventory.CPU
	for _, id := range order {
		p := pkgs[id]
		f := p.blocks[0]
		c := inventory.CPU{
			Vendor:      f["vendor_id"],
			Model:       firstSet(f["model name"], f["cpu model"], f["cpu"]),
			Family:      f["cpu family"],
			ModelNumber: f["model"],
			Stepping:    f["stepping"],
			Threads:     len(p.blocks),
			Socket:      id,
		}
		if c.Model == "" {
			// ARM names only the core type; the board model is the last resort.
			c.Model = firstSet(armPartName(f["CPU implementer"], f["CPU part"]), global["Hardware"], global["Model"])
		}
		if c.Vendor == "" {
			c.Vendor = armImplementer(f["CPU implementer"])
			if c.Family == "" {
				c.Family = f["CPU architecture"]
			}
			if c.ModelNumber == "" {
				c.ModelNumber = f["CPU part"]
			}
			if c.Stepping == "" {
				c.Stepping = f["CPU revision"]
			}
		}
		switch n := atoiOr(f["cpu cores"], 0); {
		case n > 0:
			c.Cores = n
		case len(p.cores) > 0:
			c.Cores = len(p.cores)
		default:
			c.Cores = len(p.blocks) // ARM lists cores without SMT details
		}
		if mhz, err := strconv.ParseFloat(f["cpu MHz"], 64); err == nil && mhz > 0 {
			c.SpeedHz = uint64(mhz * 1e6)
		}
		if m := ghzInName.Get().FindStringSubmatch(c.Model); m != nil {
			if ghz, err := strconv.ParseFloat(m[1], 64); err == nil {
				c.SpeedHz = uint64(ghz * 1e9) // nominal speed: stable between collections
			}
		}
		if serial := global["Serial"]; serial != "" && strings.Trim(serial, "0") != "" {
			c.Serial = serial
		}
		out = append(out, c)
	}
	return out
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

func armImplementer(id string) string {
	switch strings.ToLower(id) {
	case "0x41":
		return "ARM"
	case "0x42":
		return "Broadcom"
	case "0x43":
		return "Cavium"
	case "0x46":
		return "Fujitsu"
	case "0x48":
		return "HiSilicon"
	case "0x4e":
		return "NVIDIA"
	case "0x51":
		return "Qualcomm"
	case "0x61":
		return "Apple"
	case "0xc0":
		return "Ampere"
	}
	return ""
}

func armPartName(impl, part string) string {
	if strings.ToLower(impl) != "0x41" {
		return ""
	}
	names := map[string]string{"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55",
		"0xd07": "Cortex-A57", "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75",
		"0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd40": "Neoverse-V1",
		"0xd41": "Cortex-A78", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710",
		"0xd49": "Neoverse-N2", "0xd4f": "Neoverse-V2", "0xd4b": "Cortex-A78C"}
	if n, ok := names[strings.ToLower(part)]; ok {
		return "ARM " + n
	}
	return ""
}

// cpuCaches reports cpu0's L2 and L3 cache sizes.
func cpuCaches(dir string) (l2, l3 uint64) {
	entries, err := readDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "index") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		size := parseCacheSize(readStr(filepath.Join(p, "size")))
		switch readStr(filepath.Join(p, "level")) {
		case "2":
			l2 = size
		case "3":
			l3 = size
		}
	}
	return l2, l3
}

func parseCacheSize(s string) uint64 {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}
