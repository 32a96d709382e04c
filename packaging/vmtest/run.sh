#!/bin/sh
# `make test-linux-vm`: the .deb, the systemd unit, the shutdown actions and the journal on a real
# systemd. Builds two .debs of this tree (release.sh), the fakes (vmfakes), a Debian root
# (debootstrap.sh, cached) turned into an ext4 disk with the test (guest.sh), and boots it with
# qemu (TCG, no network device) up to three times: power-off and reboot each end a boot. The
# guest writes its results to a second serial port, read here after each boot.
# Needs root, qemu-system-x86_64, debootstrap, mkfs.ext4. Without them: a skip, or a failure
# when CI is set. Env: VMTEST_KEEP=1 keeps the work folder; VMTEST_CACHE, VMTEST_MIRROR (see
# debootstrap.sh); VMTEST_BOOT_TIMEOUT (seconds per boot, default 600); VMTEST_QUICK=1 runs only
# the install and shutdown-action checks (while working on them).
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-go}

missing=
for t in qemu-system-x86_64 debootstrap mkfs.ext4; do
	command -v $t >/dev/null 2>&1 || missing="$missing $t"
done
[ "$(id -u)" = 0 ] || missing="$missing (root: debootstrap and mkfs.ext4 -d need it)"
if [ -n "$missing" ]; then
	msg="test-linux-vm: missing$missing (Debian packages qemu-system-x86, debootstrap, e2fsprogs)"
	if [ -n "${CI:-}" ]; then
		echo "$msg: required when CI is set" >&2
		exit 1
	fi
	echo "SKIP $msg"
	exit 0
fi

start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/omniagent-vmtest.XXXXXX")
qemu_pid=
cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	if [ -n "${VMTEST_KEEP:-}" ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo "[$(($(date +%s) - start))s] $*"; }

step "debian root (debootstrap, cached)"
root=$(./packaging/vmtest/debootstrap.sh)

step "build the .debs and the fakes"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
for n in 1 2; do
	DIST="$work/dist$n" TARGETS=linux/amd64 VERSION="v0.0.0-vmtest.$n+$commit" GO="$GO" ./packaging/release.sh >"$work/release$n.log" 2>&1 ||
		{ cat "$work/release$n.log" >&2; exit 1; }
done
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "$GO" build -trimpath -o "$work/vmfakes" ./packaging/vmtest/vmfakes

step "image"
img="$work/root"
cp -a "$root" "$img"
rm -f "$img/.vmtest-complete"
mkdir -p "$img/opt/vmtest" "$img/var/log/journal"
cp "$work"/dist1/omniagent_*_amd64.deb "$img/opt/vmtest/omniagent-old.deb"
cp "$work"/dist2/omniagent_*_amd64.deb "$img/opt/vmtest/omniagent-new.deb"
install -m 0755 packaging/vmtest/guest.sh "$work/vmfakes" "$img/opt/vmtest/"
mkdir -p "$img/etc/systemd/system/multi-user.target.wants"
for u in vmtest vmfakes vmtest-probe; do
	cp "packaging/vmtest/$u.service" "$img/etc/systemd/system/"
	ln -sf "/etc/systemd/system/$u.service" "$img/etc/systemd/system/multi-user.target.wants/$u.service"
done
# Nothing else may run dpkg or take time in the VM: no apt/dpkg/fstrim/e2scrub timers, no
# getty on the (absent) screen.
rm -f "$img"/etc/systemd/system/timers.target.wants/* "$img/etc/systemd/system/getty.target.wants/getty@tty1.service" \
	"$img/etc/systemd/system/multi-user.target.wants/e2scrub_reap.service"
echo vmtest >"$img/etc/hostname"
# VMTEST_QUICK=1 (while working on the test): install, then only the shutdown actions.
[ -z "${VMTEST_QUICK:-}" ] || touch "$img/opt/vmtest/quick"
printf '127.0.0.1 localhost\n127.0.1.1 vmtest\n' >"$img/etc/hosts"
kernel=$(ls "$img"/boot/vmlinuz-* | tail -n1)
initrd=$(ls "$img"/boot/initrd.img-* | tail -n1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd"
truncate -s 3G "$work/vm.img"
mkfs.ext4 -q -F -L vmtest -d "$img" "$work/vm.img"
rm -rf "$img"

results="$work/results.txt"
: >"$results"
boot=0
while ! grep -q '^VMTEST DONE' "$results" && [ $boot -lt 3 ]; do
	boot=$((boot + 1))
	step "boot $boot"
	timeout "${VMTEST_BOOT_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 \
		-kernel "$work/vmlinuz" -initrd "$work/initrd" \
		-append "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 panic=-1" \
		-drive "file=$work/vm.img,format=raw,if=virtio" \
		-display none -monitor none -no-reboot -nic none \
		-serial "file:$work/console-$boot.log" -serial "file:$work/results-$boot.log" &
	qemu_pid=$!
	rc=0
	wait $qemu_pid || rc=$?
	qemu_pid=
	tr -d '\r' <"$work/results-$boot.log" | tee -a "$results" | awk '!/^LOG / || /^LOG (boot|probe):/' || true
	if [ $rc != 0 ]; then
		echo "boot $boot: qemu exited $rc (124: timed out); console tail:"
		tail -n 40 "$work/console-$boot.log"
		break
	fi
	if ! grep -q "^PHASE [0-9]* done" "$work/results-$boot.log"; then
		echo "boot $boot ended without finishing its phase; console tail:"
		tail -n 40 "$work/console-$boot.log"
		break
	fi
done

fails=$(grep -c '^RESULT FAIL' "$results" || true)
oks=$(grep -c '^RESULT ok' "$results" || true)
if [ "$fails" != 0 ]; then
	echo "---- guest logs"
	grep '^LOG ' "$results" || true
fi
step "$oks checks passed, $fails failed, $boot boots"
[ "$fails" = 0 ] && grep -q '^VMTEST DONE' "$results"
