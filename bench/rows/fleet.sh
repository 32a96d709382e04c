#!/usr/bin/env bash
# Fleet behaviour through a server outage: 2,000 agents' schedulers in one process, each with
# the five protocols at their default intervals, in virtual time (testing/synctest), every
# server down for 30 minutes. Rows: requests per minute in the minute after the recovery vs the
# steady rate (a ratio above 3 is a thundering herd, a bug), and the longest any agent stayed
# away after the recovery (at most two of its intervals).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(OMNIAGENT_FLEET_AGENTS=2000 go test -count=1 -run '^TestFleetOutage$' -v ./scheduler 2>&1) || {
	echo "| fleet | 2,000 agents through a 30 min outage | FAILED | $(echo "$out" | grep -E 'herd|silent' | head -3 | tr '\n' ' ') |"
	exit 0
}
echo "$out" | awk '/^FLEET / {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "| fleet | %s: requests/min in the minute after a 30 min outage vs steady (%s agents) | %s× (%s vs %s/min) | herd if > 3; worst silence after recovery %s, %s agents over 2 intervals |\n", $2, v["agents"], v["ratio"], v["after_recovery_per_min"], v["steady_per_min"], v["worst_silence"], v["silent_over_2_intervals"]
}'
