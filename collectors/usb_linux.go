package collectors

import (
	"context"
	"path/filepath"

	"github.com/omniagent/omniagent/inventory"
)

// collectUSB lists USB devices (not their interfaces, not the root hubs) from sysfs.
func collectUSB(_ context.Context, inv *inventory.Inventory) error {
	entries, err := readDir("/sys/bus/usb/devices")
	if err != nil {
		return nil // no USB bus (VMs and containers often have none)
	}
	for _, e := range entries {
		dir := filepath.Join("/sys/bus/usb/devices", e.Name())
		r := func(f string) string { return readStr(filepath.Join(dir, f)) }
		vid := r("idVendor")
		if vid == "" || vid == "1d6b" { // interfaces have no idVendor; 1d6b is the Linux root hub
			continue
		}
		d := inventory.USBDevice{Name: r("product"), VendorID: vid, ProductID: r("idProduct"),
			Manufacturer: r("manufacturer"), Serial: r("serial"), Class: usbClassName(r("bDeviceClass")), Bus: r("busnum")}
		if d.Class == "" && fileExists(filepath.Join(dir, e.Name()+":1.0", "bInterfaceClass")) {
			d.Class = usbClassName(readStr(filepath.Join(dir, e.Name()+":1.0", "bInterfaceClass")))
		}
		inv.USB = append(inv.USB, d)
	}
	return nil
}

// usbClassName names a USB class code (hex); "00" means "see the interfaces".
func usbClassName(c string) string {
	return map[string]string{"01": "Audio", "02": "Communications", "03": "Human Interface Device",
		"05": "Physical", "06": "Image", "07": "Printer", "08": "Mass Storage", "09": "Hub",
		"0a": "CDC Data", "0b": "Smart Card", "0d": "Content Security", "0e": "Video",
		"0f": "Personal Healthcare", "10": "Audio/Video", "11": "Billboard", "dc": "Diagnostic",
		"e0": "Wireless Controller", "ef": "Miscellaneous", "fe": "Application Specific", "ff": "Vendor Specific"}[c]
}
