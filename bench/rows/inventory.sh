#!/usr/bin/env bash
# Inventory figures: the built binary's `omniagent inventory --format json` (cold process each
# run) measured with bench/runstat: wall time, CPU time (user+sys, from the kernel's rusage in
# µs) and peak RSS, median of the runs; with every category on, interleaved run by run with
# `fusioninventory-inventory` when it is installed (Debian package fusioninventory-agent), so
# both see the same machine load.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# OMNIAGENT_BENCH_BIN measures another build (an older commit's binary, for a before/after).
if [ -n "${OMNIAGENT_BENCH_BIN:-}" ]; then
	cp "$OMNIAGENT_BENCH_BIN" "$tmp/omniagent"
else
	CGO_ENABLED=0 go build -trimpath -tags nethttpomithttp2 -ldflags '-s -w -buildid=' -o "$tmp/omniagent" ./cmd/omniagent
fi
cpus=$(nproc)
go build -o "$tmp/runstat" ./bench/runstat

# run NAME CMD...: one timed run appended to $tmp/NAME.times ("wall-µs user-µs sys-µs maxrss-KB").
run() {
	local name=$1
	shift
	if ! "$tmp/runstat" -out "$tmp/$name.out" -- "$@" >> "$tmp/$name.times" 2> "$tmp/err"; then
		echo "| inventory | $name | (failed) | $(head -c 200 "$tmp/err" | tr '\n|' '  ') |"
		return 1
	fi
}

# median NAME: "wall_ms cpu_ms rss_MB runs" of the runs.
median() {
	awk '{ wall[NR] = $1 / 1000; cpu[NR] = ($2 + $3) / 1000; rss[NR] = $4 / 1024 }
		END { n = asort(wall); asort(cpu); asort(rss); m = int((n + 1) / 2)
			printf "%.1f %.1f %.1f %d\n", wall[m], cpu[m], rss[m], n }' "$tmp/$1.times"
}

row() { # row NAME LABEL TARGET
	local w c r n size
	read -r w c r n < <(median "$1")
	size=$(stat -c %s "$tmp/$1.out")
	echo "| inventory | $2 | $w ms wall, $c ms CPU, $r MB peak RSS | median of $n runs on $cpus CPUs, $((size / 1024)) KB output; $3 |"
}

for _ in 1 2 3 4 5; do
	run default "$tmp/omniagent" inventory --format json
done
row default "omniagent inventory --format json (default categories)" "wall, CPU (user+sys) and peak RSS from the rusage of each run (bench/runstat)"

# Every category on, the opt-in ones (processes, envs) included.
printf '[inventory]\ndisable = []\nenvs = true\n' > "$tmp/all.toml"
fi_cmd=$(command -v fusioninventory-inventory || true)
for i in $(seq 9); do
	run all "$tmp/omniagent" inventory --format json --config "$tmp/all.toml"
	if [ -n "$fi_cmd" ] && [ "$i" -le 3 ]; then
		run fusion "$fi_cmd" || fi_cmd=""
	fi
done
row all "omniagent inventory --format json, every category" "target ≤ 15 ms wall, ≤ 15 MB peak RSS"
if [ -f "$tmp/fusion.times" ]; then
	row fusion "fusioninventory-inventory (interleaved with the runs above)" "the agent omniagent replaces"
	read -r ow _ < <(median all)
	read -r fw _ < <(median fusion)
	echo "| inventory | speed-up over fusioninventory-inventory | $(awk -v a="$fw" -v b="$ow" 'BEGIN { printf "%.0f×", a / (b > 0 ? b : 1) }') | median wall against median wall, same runs; target ≥ 40× |"
else
	echo "| inventory | fusioninventory-inventory | not installed | apt-get install fusioninventory-agent to compare; target ≥ 40× |"
fi
