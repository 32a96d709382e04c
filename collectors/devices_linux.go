package collectors

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// Peripheral categories on Linux: audio (PCI multimedia audio/HD audio functions, plus USB
// audio cards from /proc/asound/cards), input devices (/proc/bus/input/devices), modems (PCI
// communication class 0703 and USB CDC ACM ttys) and cameras (video4linux capture nodes).

func collectSounds(ctx context.Context, inv *inventory.Inventory) error {
	devs, err := pciDevices(ctx, "0401", "0403")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, d := range devs {
		s := inventory.Sound{Name: firstSet(d.DeviceName, pciClassName(d.Class)), Manufacturer: d.VendorName}
		if d.Revision != "" {
			s.Description = "rev " + d.Revision
		}
		inv.Sounds = append(inv.Sounds, s)
	}
	// USB audio is not on PCI: ALSA lists it with its driver.
	for _, c := range ParseASoundCards(readStr("/proc/asound/cards")) {
		if c.Driver == "USB-Audio" {
			inv.Sounds = append(inv.Sounds, inventory.Sound{Name: c.Name, Description: "USB-Audio"})
		}
	}
	return nil
}

// ASoundCard is one /proc/asound/cards entry.
type ASoundCard struct{ ID, Driver, Name string }

// ParseASoundCards reads /proc/asound/cards: " 0 [PCH            ]: HDA-Intel - HDA Intel PCH"
// then an indented long name.
func ParseASoundCards(s string) []ASoundCard {
	var out []ASoundCard
	for line := range strings.Lines(s) {
		open, close := strings.IndexByte(line, '['), strings.Index(line, "]:")
		if open < 0 || close < open {
			continue
		}
		drv, name, _ := strings.Cut(strings.TrimSpace(line[close+2:]), " - ")
		out = append(out, ASoundCard{ID: strings.TrimSpace(line[open+1 : close]), Driver: strings.TrimSpace(drv), Name: strings.TrimSpace(name)})
	}
	return out
}

func collectInputs(_ context.Context, inv *inventory.Inventory) error {
	inv.Inputs = ParseInputDevices(readStr("/proc/bus/input/devices"))
	return nil
}

// ParseInputDevices keeps the keyboards and pointing devices of /proc/bus/input/devices,
// leaving out the platform's buttons and virtual devices (bus 0019 host, 0006 virtual).
func ParseInputDevices(s string) []inventory.InputDevice {
	var out []inventory.InputDevice
	for block := range strings.SplitSeq(s, "\n\n") {
		var name, bus, handlers string
		for line := range strings.Lines(block) {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "I: "):
				for _, f := range strings.Fields(line[3:]) {
					if v, ok := strings.CutPrefix(f, "Bus="); ok {
						bus = strings.ToLower(v)
					}
				}
			case strings.HasPrefix(line, "N: Name="):
				name = strings.Trim(line[len("N: Name="):], `"`)
			case strings.HasPrefix(line, "H: Handlers="):
				handlers = " " + line[len("H: Handlers="):] + " "
			}
		}
		if name == "" || bus == "0019" || bus == "0006" {
			continue
		}
		d := inventory.InputDevice{Name: name, Interface: inputBus(bus)}
		switch {
		case strings.Contains(handlers, " mouse"):
			d.Type = "pointing"
		case strings.Contains(handlers, " kbd "):
			d.Type = "keyboard"
		default:
			continue
		}
		out = append(out, d)
	}
	return out
}

// inputBus names an input device's bus type (linux/input.h BUS_*, as /proc/bus/input/devices
// prints it).
func inputBus(id string) string {
	name, _ := inputBuses.get(id)
	return name
}

var inputBuses = pairs{
	{"0001", "PCI"}, {"0003", "USB"}, {"0005", "Bluetooth"}, {"0011", "PS/2"}, {"0018", "I2C"},
	{"001e", "SPI"},
}

func collectModems(ctx context.Context, inv *inventory.Inventory) error {
	devs, err := pciDevices(ctx, "0703")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, d := range devs {
		inv.Modems = append(inv.Modems, inventory.Modem{Name: firstSet(d.DeviceName, "Modem"), Manufacturer: d.VendorName, Type: "PCI"})
	}
	// USB CDC ACM modems (mobile broadband sticks, USB fax modems) appear as ttyACM*: name
	// them from the USB device two levels up from the interface.
	ttys, _ := filepath.Glob("/sys/class/tty/ttyACM*")
	seen := map[string]bool{}
	for _, t := range ttys {
		usbDev, err := filepath.EvalSymlinks(filepath.Join(t, "device", ".."))
		if err != nil || seen[usbDev] {
			continue
		}
		seen[usbDev] = true
		m := inventory.Modem{Name: readStr(filepath.Join(usbDev, "product")), Manufacturer: readStr(filepath.Join(usbDev, "manufacturer")),
			Serial: readStr(filepath.Join(usbDev, "serial")), Type: "USB", Description: filepath.Base(t)}
		if m.Name == "" {
			m.Name = filepath.Base(t)
		}
		inv.Modems = append(inv.Modems, m)
	}
	return nil
}

func collectCameras(_ context.Context, inv *inventory.Inventory) error {
	inv.Cameras = videoCaptureDevices("/sys/class/video4linux")
	return nil
}

// videoCaptureDevices lists one camera per video4linux device: index 0 is the capture node,
// higher indexes are the same camera's metadata nodes.
func videoCaptureDevices(dir string) []inventory.Camera {
	nodes, _ := filepath.Glob(filepath.Join(dir, "video*"))
	sort.Strings(nodes)
	var out []inventory.Camera
	for _, n := range nodes {
		if idx := readStr(filepath.Join(n, "index")); idx != "" && idx != "0" {
			continue
		}
		c := inventory.Camera{Name: readStr(filepath.Join(n, "name"))}
		// USB cameras: the interface's parent is the device with manufacturer and product.
		if usbDev, err := filepath.EvalSymlinks(filepath.Join(n, "device", "..")); err == nil {
			c.Manufacturer = readStr(filepath.Join(usbDev, "manufacturer"))
			c.Model = readStr(filepath.Join(usbDev, "product"))
		}
		if c.Name == "" {
			c.Name = firstSet(c.Model, filepath.Base(n))
		}
		out = append(out, c)
	}
	return out
}
