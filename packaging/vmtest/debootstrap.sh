#!/bin/sh
# Prints the path of a Debian root with systemd and a kernel for the VM test, building it with
# debootstrap on first use and caching it under $VMTEST_CACHE (default
# /var/cache/omniagent-vmtest; never the repo). The mirror comes from this machine's own apt
# sources, so no package host is written in the repo.
set -eu
CACHE=${VMTEST_CACHE:-/var/cache/omniagent-vmtest}
SUITE=${VMTEST_SUITE:-bookworm}
# minbase keeps the root small; systemd, udev and a kernel are what the test needs; procps for
# pgrep/ps in the guest script.
PKGS=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,kmod,procps,iproute2
key=$(printf '%s %s v2' "$SUITE" "$PKGS" | sha256sum | cut -c1-12)
root="$CACHE/root-$key"
if [ -f "$root/.vmtest-complete" ]; then
	echo "$root"
	exit 0
fi

# mirror: the first deb URI of the machine's apt sources that is not a security archive.
mirror=${VMTEST_MIRROR:-}
if [ -z "$mirror" ]; then
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$f" | grep -v security | head -n1)
		[ -n "$mirror" ] && break
	done
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list | grep -v security | head -n1)
fi
[ -n "$mirror" ] || { echo "debootstrap.sh: no Debian mirror found in /etc/apt/sources.list{,.d} (set VMTEST_MIRROR)" >&2; exit 1; }

mkdir -p "$CACHE"
tmp="$root.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "debootstrap $SUITE from $mirror into $tmp" >&2
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$tmp" "$mirror" >&2
# A small initrd (the VM's disk is virtio, its root ext4): under emulation, unpacking Debian's
# MODULES=most initrd is a good part of the boot.
echo MODULES=list >"$tmp/etc/initramfs-tools/conf.d/vmtest"
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$tmp/etc/initramfs-tools/modules"
chroot "$tmp" update-initramfs -u -k all >&2
# The downloaded .debs are not needed in the image: every run copies the root.
rm -f "$tmp"/var/cache/apt/archives/*.deb
touch "$tmp/.vmtest-complete"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
echo "$root"
