#!/usr/bin/env bash
# GLPI figures: this machine's INVENTORY message (real collectors) built, schema-checked and
# compressed per encoding: compressed size, time and allocations per message.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -run '^$' -bench 'BenchmarkInventoryWire' -benchtime 20x -benchmem ./protocols/glpi/ 2>&1) || { echo "| glpi | inventory wire size | (benchmark failed) | $(echo "$out" | tail -1) |"; exit 0; }
echo "$out" | awk '
/^BenchmarkInventoryWire\// {
	split($1, p, "/"); enc = p[2]; sub(/-[0-9]+$/, "", enc)
	for (i = 2; i <= NF; i++) {
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "B/op") bop = $i
		if ($(i+1) == "allocs/op") al = $i
		if ($(i+1) == "json-bytes") js = $i
		if ($(i+1) == "wire-bytes") wb = $i
	}
	what = "this machine"
	if (enc ~ /^desktop-/) { what = "synthetic desktop (this machine + 1500 packages, 8 NICs, 40 users)"; sub(/^desktop-/, "", enc) }
	printf "| glpi | inventory of %s, %s | %.1f KB on the wire (%.1f%% of %.1f KB JSON) | %.2f ms, %.2f MB alloc, %d allocs per message (build + validate + compress) |\n", what, enc, wb/1024, 100*wb/js, js/1024, ns/1e6, bop/1048576, al
}'
