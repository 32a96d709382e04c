package collectors

import (
	"os"
	"testing"

	"github.com/omniagent/omniagent/inventory"
)

func TestParseStorageDeviceDescriptor(t *testing.T) {
	tests := []struct {
		file string
		want inventory.Disk
	}{
		{"storage_descriptor_nvme.bin", inventory.Disk{Model: "Samsung SSD 980 PRO 1TB", Firmware: "5B2QGXA7", Serial: "0025_3852_1A40_7B21.", Interface: "NVMe", Type: "nvme"}},
		{"storage_descriptor_usb.bin", inventory.Disk{Vendor: "SanDisk", Model: "SanDisk Ultra", Firmware: "1.00", Serial: "4C530001230915116464", Interface: "USB", Removable: true}},
	}
	for _, tc := range tests {
		b, err := os.ReadFile("testdata/windows/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseStorageDeviceDescriptor(b)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v\nwant %+v", tc.file, got, err, tc.want)
		}
	}
	if _, err := parseStorageDeviceDescriptor(make([]byte, 10)); err == nil {
		t.Error("short descriptor: no error")
	}
	if _, err := parseStorageDeviceDescriptor(make([]byte, 64)); err == nil {
		t.Error("empty descriptor: no error")
	}
}

func FuzzParseStorageDeviceDescriptor(f *testing.F) {
	for _, n := range []string{"storage_descriptor_nvme.bin", "storage_descriptor_usb.bin"} {
		if b, err := os.ReadFile("testdata/windows/" + n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStorageDeviceDescriptor(b)
	})
}
