package inventory

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteText(t *testing.T) {
	on := true
	inv := &Inventory{
		System:   System{Hostname: "pc1", FQDN: "pc1.corp.example", Domain: "corp.example", Manufacturer: "LENOVO", Model: "20XW", Virtual: Virtual{Kind: "vm", Vendor: "kvm"}},
		BIOS:     BIOS{Vendor: "LENOVO", Version: "N32ET86W", BootType: "uefi", SecureBoot: &on},
		OS:       OS{FullName: "Debian GNU/Linux 12 (bookworm)", LastUser: "alice", LastLoginAt: time.Date(2026, 3, 3, 8, 10, 0, 0, time.UTC)},
		CPUs:     []CPU{{Model: "Xeon", Cores: 2, Threads: 4}},
		Memory:   Memory{TotalBytes: 16 << 30, Modules: []MemoryModule{{Slot: "DIMM0", SizeBytes: 8 << 30, Type: "DDR4"}}},
		Monitors: []Monitor{{Manufacturer: "Dell", Name: "DELL P2414H", WidthPx: 1920, HeightPx: 1080}},
		Networks: []Network{{Name: "eth0", MAC: "02:00:00:00:00:01", IPv4: []IPAddr{{Address: "10.0.0.2", Prefix: 24}}}},
		Software: make([]Software, 3),
		Meta:     Meta{Categories: []CategoryResult{{Name: "printers", Error: "permission denied"}}},
	}
	var b bytes.Buffer
	if err := WriteText(&b, inv); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"FQDN", "pc1.corp.example", "LENOVO N32ET86W uefi secure boot on", "Virtual", "vm kvm",
		"Xeon (2 cores, 4 threads)", "16.0 GiB", "DIMM0 8.0 GiB DDR4", "Dell DELL P2414H 1920x1080", "10.0.0.2/24",
		"Software", "alice at 2026-03-03T08:10:00Z", "printers: permission denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tt := range []struct {
		in   uint64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {16 << 30, "16.0 GiB"}, {1 << 62, "4.0 EiB"}} {
		if got := HumanBytes(tt.in); got != tt.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
