package collectors

import (
	"context"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omniagent/omniagent/inventory"
)

// collectOSLinux reads os-release, the kernel, the language and the install date.
func collectOSLinux(_ context.Context, inv *inventory.Inventory) error {
	o := &inv.OS
	o.Family = "linux"
	rel := readKV("/etc/os-release")
	if rel == nil {
		rel = readKV("/usr/lib/os-release")
	}
	applyOSRelease(o, rel)
	o.Version, o.VersionMajor = preciseVersion(rel, readStr)
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		o.KernelName = unix.ByteSliceToString(u.Sysname[:])
		o.KernelVersion = unix.ByteSliceToString(u.Release[:])
		o.Arch = unix.ByteSliceToString(u.Machine[:])
	}
	o.Language = linuxLanguage(os.Getenv("LC_ALL"), os.Getenv("LANG"))
	o.HostID = readStr("/etc/machine-id")
	o.InstallDate = linuxInstallDate()
	return nil
}

// applyOSRelease maps os-release fields; Debian's point release comes from /etc/debian_version.
func applyOSRelease(o *inventory.OS, rel map[string]string) {
	o.Name = rel["NAME"]
	o.FullName = rel["PRETTY_NAME"]
	o.ID = rel["ID"]
	o.Version = rel["VERSION_ID"]
	o.Codename = rel["VERSION_CODENAME"]
	o.Build = rel["BUILD_ID"]
	o.Edition = rel["VARIANT"]
	if o.Name == "" {
		o.Name = "Linux"
	}
	if o.FullName == "" {
		o.FullName = strings.TrimSpace(o.Name + " " + rel["VERSION"])
	}
}

// preciseVersion is the distribution's version as precisely as it says it and its major:
// Debian's point release from /etc/debian_version ("12.11"), Ubuntu's from VERSION
// ("24.04.1 LTS"), RHEL-likes' from their release file ("7.9.2009"); else VERSION_ID.
func preciseVersion(rel map[string]string, read func(string) string) (version, major string) {
	version = rel["VERSION_ID"]
	base := version
	more := func(cand string) {
		// Only a refinement of VERSION_ID: "12.11" refines "12", "trixie/sid" does not.
		if base != "" && strings.HasPrefix(cand, base+".") && len(cand) > len(version) {
			version = cand
		}
	}
	switch rel["ID"] {
	case "debian", "raspbian":
		more(read("/etc/debian_version"))
	case "ubuntu":
		if f := strings.Fields(rel["VERSION"]); len(f) > 0 {
			more(f[0])
		}
	case "centos", "rhel", "rocky", "almalinux", "ol", "scientific":
		for _, f := range []string{"/etc/centos-release", "/etc/rocky-release", "/etc/almalinux-release", "/etc/redhat-release"} {
			if line := read(f); line != "" {
				if _, after, ok := strings.Cut(line, " release "); ok {
					if fs := strings.Fields(after); len(fs) > 0 {
						more(fs[0])
					}
				}
				break
			}
		}
	}
	major, _, _ = strings.Cut(version, ".")
	return version, major
}

// linuxLanguage is the locale's language_TERRITORY from the environment, else the system
// default (/etc/default/locale on Debian, /etc/locale.conf on systemd distributions).
func linuxLanguage(envs ...string) string {
	cands := envs
	for _, f := range []string{"/etc/default/locale", "/etc/locale.conf"} {
		if kv := readKV(f); kv != nil {
			cands = append(cands, kv["LC_ALL"], kv["LANG"])
		}
	}
	for _, l := range cands {
		l, _, _ = strings.Cut(l, ".")
		l, _, _ = strings.Cut(l, "@")
		if l != "" && l != "C" && l != "POSIX" {
			return l
		}
	}
	for _, l := range cands {
		if l != "" {
			l, _, _ = strings.Cut(l, ".")
			return l
		}
	}
	return ""
}

// linuxInstallDate is the root filesystem's birth time when the filesystem records it, else
// the installer's log directory, else when the machine id was first written.
func linuxInstallDate() time.Time {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_BTIME, &st); err == nil && st.Mask&unix.STATX_BTIME != 0 && st.Btime.Sec > 0 {
		return time.Unix(st.Btime.Sec, int64(st.Btime.Nsec)).UTC()
	}
	for _, p := range []string{"/var/log/installer", "/root/anaconda-ks.cfg", "/etc/machine-id"} {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().Unix() > 0 {
			return fi.ModTime().UTC()
		}
	}
	return time.Time{}
}

func unameMachine() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Machine[:])
}
