#!/usr/bin/env bash
# OCO adapter rows: an idle hello cycle against the in-process fake server (TLS, signed both
# ways, state persisted) and the inventory mapping. Bounded: about 5 seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -run '^$' -bench 'BenchmarkHelloCycle|BenchmarkMapInventory' -benchmem -benchtime=1s -count=1 ./protocols/oco/ 2>&1)
row() {
	local name=$1 metric=$2 note=$3
	echo "$out" | awk -v n="$name" -v m="$metric" -v note="$note" '$1 ~ "^"n"(-[0-9]+)?$" {
		printf "| oco | %s | %.3f ms, %s B, %s allocs | %s |\n", m, $3/1e6, $5, $7, note }'
}
row BenchmarkHelloCycle "idle cycle (hello over TLS)" "fake server in-process; includes two fsynced state writes"
row BenchmarkMapInventory "inventory mapping" "sample machine, per call"
