#!/usr/bin/env bash
# RDFM adapter rows: an idle update check (token valid, nothing to install) and an action round
# trip over the loopback management WebSocket, both against the in-process fake. Bounded: ~5 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -run '^$' -bench 'BenchmarkIdleCycle|BenchmarkActionRoundTrip|BenchmarkShellEcho|BenchmarkShellThroughput' -benchmem -benchtime=1s -count=1 ./protocols/rdfm/ 2>&1)
row() {
	local name=$1 metric=$2 note=$3
	echo "$out" | awk -v n="$name" -v m="$metric" -v note="$note" '$1 ~ "^"n"(-[0-9]+)?$" {
		if ($6 == "MB/s") printf "| rdfm | %s | %s MB/s (%.0f ms per 16 MiB) | %s |\n", m, $5, $3/1e6, note
		else printf "| rdfm | %s | %.3f ms, %s B, %s allocs | %s |\n", m, $3/1e6, $5, $7, note }'
}
row BenchmarkIdleCycle "idle update check" "fake server in-process, plain HTTP loopback"
row BenchmarkActionRoundTrip "action round trip over WebSocket" "action_exec → control → /bin/echo → result"
row BenchmarkShellEcho "shell echo round trip" "type a line, read its output; pty + attach WebSocket"
row BenchmarkShellThroughput "shell bulk output" "16 MiB of terminal output per op"
