#!/usr/bin/env bash
# Inventory figures: the built binary's `omniagent inventory --format json` (every category,
# cold process each run) measured with /usr/bin/time: wall time, CPU time (user+sys) and peak
# RSS, median of 5 runs; side by side with `fusioninventory-inventory` when installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w -buildid=' -o "$tmp/omniagent" ./cmd/omniagent
cpus=$(nproc)

# measure NAME RUNS CMD...: prints one table row with the median of each figure.
measure() {
	local name=$1 runs=$2
	shift 2
	if [ ! -x /usr/bin/time ]; then
		echo "| inventory | $name | (no /usr/bin/time) | - |"
		return
	fi
	: > "$tmp/times"
	for _ in $(seq "$runs"); do
		if ! /usr/bin/time -f '%e %U %S %M' -o "$tmp/one" "$@" > "$tmp/out" 2> "$tmp/err"; then
			echo "| inventory | $name | (failed) | $(head -c 200 "$tmp/err" | tr '\n|' '  ') |"
			return
		fi
		tail -1 "$tmp/one" >> "$tmp/times"
	done
	local size
	size=$(stat -c %s "$tmp/out")
	sort -n -k1 "$tmp/times" | awk -v n="$runs" -v name="$name" -v size="$size" -v cpus="$cpus" '
		{ wall[NR] = $1; cpu[NR] = $2 + $3; rss[NR] = $4 }
		END {
			m = int((n + 1) / 2)
			asort(cpu); asort(rss)
			printf "| inventory | %s | %.0f ms wall, %.0f ms CPU, %.1f MB peak RSS | median of %d runs on %d CPUs, %.0f KB output |\n", name, wall[m] * 1000, cpu[m] * 1000, rss[m] / 1024, n, cpus, size / 1024
		}'
}

measure "omniagent inventory --format json" 5 "$tmp/omniagent" inventory --format json
# Every category on, the opt-in ones (processes, envs) included (issue 15's budget).
printf '[inventory]\ndisable = []\nenvs = true\n' > "$tmp/all.toml"
measure "omniagent inventory --format json, every category" 5 "$tmp/omniagent" inventory --format json --config "$tmp/all.toml"
if command -v fusioninventory-inventory > /dev/null 2>&1; then
	measure "fusioninventory-inventory" 3 fusioninventory-inventory
else
	echo "| inventory | fusioninventory-inventory | not installed | apt-get install fusioninventory-agent to compare |"
fi
echo "| inventory | target | < 150 ms wall, < 30 MB peak RSS | issue 3 |"
echo "| inventory | target, every category | < 60 ms wall, < 25 MB peak RSS | issue 15 |"
