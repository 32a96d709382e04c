#!/bin/sh
# Stop and disable omniagent on removal, but not on upgrade (deb: "upgrade"; rpm: $1 = 1).
set -e
case "$1" in
	upgrade|1) exit 0 ;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl stop omniagent.service || true
	systemctl disable omniagent.service || true
fi
exit 0
