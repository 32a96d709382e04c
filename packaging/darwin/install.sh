#!/bin/sh
# Installs omniagent as a launchd daemon. Run as root from the unpacked tarball: sudo ./install.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
conf="/Library/Application Support/omniagent"
plist=/Library/LaunchDaemons/omniagent.plist
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
if [ -f "$plist" ]; then launchctl bootout system "$plist" 2>/dev/null || true; fi
install -d -m 0755 /usr/local/bin
install -m 0755 "$here/omniagent" /usr/local/bin/omniagent
install -d -m 0755 "$conf"
install -d -m 0700 "$conf/state"
install -d -m 0755 /Library/Logs/omniagent
[ -f "$conf/agent.toml" ] || install -m 0600 "$here/agent.toml.example" "$conf/agent.toml"
/usr/local/bin/omniagent config check "$conf/agent.toml"
install -m 0644 "$here/omniagent.plist" "$plist"
launchctl bootstrap system "$plist"
echo "omniagent installed; edit $conf/agent.toml then: sudo launchctl kickstart -k system/omniagent"
