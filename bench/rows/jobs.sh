#!/usr/bin/env bash
# Job runner figures: download + SHA-256 verify of a 1 GiB file from a loopback server, as a
# ratio against `sha256sum` of the same file in the same run (best of two each, interleaved),
# and the pty shell echo round trip.
# Needs about 2.2 GiB free in $TMPDIR (payload + downloaded copy); uses less when short of space.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmpdir=${TMPDIR:-/tmp}
avail_kb=$(df -Pk "$tmpdir" | awk 'NR==2 {print $4}')
size=$((1 << 30))
if [ "$avail_kb" -lt $((3 * 1024 * 1024)) ]; then
	size=$((128 << 20)) # not enough room for two 1 GiB copies: say so in the row
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/jobsbench" ./jobs/internal/jobsbench
if ! command -v sha256sum >/dev/null; then
	echo "| jobs | download + sha256 | skipped | sha256sum not installed |"
	exit 0
fi
timeout 120 "$bin/jobsbench" -size "$size" -dir "$tmpdir" -echo 200
