package collectors

import (
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// platformVirtual tells a VM from bare metal by the firmware's maker and model strings, for
// Windows (SMBIOS) and macOS (hw.model, which is "VMware7,1" or "VirtualMac2,1" in guests).
func platformVirtual(hw ...string) inventory.Virtual {
	s := strings.ToLower(strings.Join(hw, " "))
	for _, v := range []struct{ sub, vendor string }{
		{"vmware", "vmware"}, {"virtualbox", "virtualbox"}, {"innotek", "virtualbox"},
		{"qemu", "qemu"}, {"kvm", "kvm"}, {"bochs", "bochs"}, {"microsoft corporation virtual", "hyperv"},
		{"virtual machine", "hyperv"}, {"hyper-v", "hyperv"}, {"xen", "xen"}, {"parallels", "parallels"},
		{"amazon ec2", "amazon"}, {"google compute engine", "google"}, {"openstack", "openstack"},
		{"virtualmac", "apple"}, {"apple virtualization", "apple"},
	} {
		if strings.Contains(s, v.sub) {
			return inventory.Virtual{Kind: "vm", Vendor: v.vendor, Role: "guest"}
		}
	}
	return inventory.Virtual{Kind: "physical"}
}
