#!/bin/sh
# After removal: reload systemd. On deb purge, delete config and state as well.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
fi
if [ "$1" = "purge" ]; then
	rm -rf /etc/omniagent /var/lib/omniagent
fi
exit 0
