#!/bin/sh
# Enable and (re)start omniagent after install or upgrade. The config under /etc/omniagent is a
# conffile: dpkg/rpm keep the admin's copy on upgrade.
set -e
chmod 0700 /var/lib/omniagent 2>/dev/null || true
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	systemctl enable omniagent.service || true
	systemctl restart omniagent.service || true
fi
exit 0
