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
