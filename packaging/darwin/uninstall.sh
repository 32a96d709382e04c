#!/bin/sh
# Removes the omniagent launchd daemon; --purge also deletes config, state and logs.
set -eu
plist=/Library/LaunchDaemons/omniagent.plist
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }
launchctl bootout system "$plist" 2>/dev/null || true
rm -f "$plist" /usr/local/bin/omniagent
if [ "${1:-}" = "--purge" ]; then
	rm -rf "/Library/Application Support/omniagent" /Library/Logs/omniagent
fi
