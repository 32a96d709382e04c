#!/usr/bin/env bash
# Whole-agent figures (issue 20's budget): stripped binary sizes, and the idle daemon with all
# five protocols configured (servers on loopback ports where nothing answers, so every adapter
# is alive and backing off, the worst idle case; MIG holds its session on the machine's
# RabbitMQ) and with no server at all, both started together and measured from /proc: RSS
# after 20 s and 50 s (anonymous and mapped from the binary), CPU over the 30 s in between.
# OMNIAGENT_BENCH_IDLE_SECONDS=600 measures CPU over 10 minutes instead of extrapolating.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	# The idle MIG server declared a durable queue on the machine's broker: remove it.
	if [ -x "$tmp/omniagent" ] && [ -f "$tmp/agent.toml" ] && command -v rabbitmqctl >/dev/null 2>&1; then
		q=$("$tmp/omniagent" status --config "$tmp/agent.toml" 2>/dev/null | awk '$1 == "queue:" && $2 ~ /^mig\./ {print $2} $1 == "mig:" && $2 == "queue:" {print $3}' | head -n 1)
		[ -n "$q" ] && rabbitmqctl delete_queue -p "$vhost" "$q" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
amqp_url=${OMNIAGENT_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
# The broker's virtual host of that URL ("/" when the path is empty or %2F), for rabbitmqctl.
vhost=$(printf '%s' "$amqp_url" | sed -E 's|^[a-z]+://[^/]*/?||; s|\?.*$||; s|%2[Ff]|/|g')
vhost=${vhost:-/}
# mib KB: MiB, one decimal (what these rows printed as "MB" before 2026-12-03); mb KB: 10^6 bytes.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.2f", k * 1024 / 1e6 }'; }
build=(go build -trimpath -tags nethttpomithttp2 -ldflags '-s -w -buildid=')
cmd="CGO_ENABLED=0 go build -trimpath -tags nethttpomithttp2 -ldflags='-s -w -buildid=' ./cmd/omniagent (as release.sh)"
# OMNIAGENT_BENCH_BIN (and OMNIAGENT_BENCH_EXE) measure other builds (before/after).
if [ -n "${OMNIAGENT_BENCH_BIN:-}" ]; then
	cmd="OMNIAGENT_BENCH_BIN=$OMNIAGENT_BENCH_BIN"
	cp "$OMNIAGENT_BENCH_BIN" "$tmp/omniagent"
else
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "${build[@]}" -o "$tmp/omniagent" ./cmd/omniagent
fi
if [ -n "${OMNIAGENT_BENCH_EXE:-}" ]; then
	cp "$OMNIAGENT_BENCH_EXE" "$tmp/omniagent.exe"
else
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "${build[@]}" -o "$tmp/omniagent.exe" ./cmd/omniagent
fi
for b in omniagent omniagent.exe; do
	size=$(stat -c %s "$tmp/$b")
	os=linux
	[ "$b" = omniagent.exe ] && os=windows
	echo "| agent | stripped $os/amd64 binary | $(awk -v s="$size" 'BEGIN { printf "%.2f MB (%.2f MiB, %d bytes)", s / 1e6, s / 1048576, s }') | target ≤ 15 MB; GOOS=$os GOARCH=amd64 $cmd |"
done

cfg="$tmp/agent.toml"
bash bench/idle-config.sh "$tmp" > "$cfg"
# MIG binds its queue to the scheduler's exchanges: on a broker no MIG scheduler or test has used
# yet they do not exist and the relay session would fail and back off instead of being held.
go run ./bench/migexchanges "$amqp_url" 2>"$tmp/migexchanges.err" || true
servers=$(grep -c '^\[\[server\]\]' "$cfg")
mkdir -p "$tmp/none"
printf '[agent]\nstate_dir = "%s/none"\nlog_level = "error"\n' "$tmp" > "$tmp/none.toml"
"$tmp/omniagent" run --config "$cfg" --log-level error 2>"$tmp/log" &
five=$!
pids+=("$five")
"$tmp/omniagent" run --config "$tmp/none.toml" --log-level error 2>"$tmp/log-none" &
none=$!
pids+=("$none")
window=${OMNIAGENT_BENCH_IDLE_SECONDS:-30}
sleep 20
declare -A rss20 t0
for p in "$five" "$none"; do
	if ! kill -0 "$p" 2>/dev/null; then
		echo "| agent | idle | (agent exited) | $(head -c 200 "$tmp/log" "$tmp/log-none" | tr '\n|' '  ') |"
		exit 0
	fi
	rss20[$p]=$(awk '/^VmRSS/ {print $2}' /proc/"$p"/status)
	t0[$p]=$(awk '{print $14+$15}' /proc/"$p"/stat)
done
# Says in the row whether MIG's relay session was up (its queue has our consumer).
mig="MIG relay session: unknown (no rabbitmqctl)"
if command -v rabbitmqctl >/dev/null 2>&1; then
	q=$("$tmp/omniagent" status --config "$cfg" 2>/dev/null | awk '$1 == "queue:" && $2 ~ /^mig\./ {print $2} $1 == "mig:" && $2 == "queue:" {print $3}' | head -n 1)
	c=$(rabbitmqctl list_queues -p "$vhost" name consumers 2>/dev/null | awk -v q="$q" '$1 == q {print $2}')
	if [ -n "$q" ] && [ "${c:-0}" -ge 1 ]; then mig="MIG relay session held"; else mig="MIG relay session NOT held ($(head -c 120 "$tmp/migexchanges.err" | tr '\n|' '  '))"; fi
fi
sleep "$window"
hz=$(getconf CLK_TCK)
for p in "$five" "$none"; do
	t1=$(awk '{print $14+$15}' /proc/"$p"/stat)
	rss=$(awk '/^VmRSS/ {print $2}' /proc/"$p"/status)
	anon=$(awk '/^RssAnon/ {print $2}' /proc/"$p"/status)
	file=$(awk '/^RssFile/ {print $2}' /proc/"$p"/status)
	if [ "$p" = "$five" ]; then what="$servers servers configured (bench/idle-config.sh)"; target="target RSS ≤ 12 MB, anonymous ≤ 4 MB; $mig"; else what="no server configured"; target="target RSS ≤ 8 MB"; fi
	echo "| agent | idle RSS, $what | $(mib "${rss20[$p]}") MiB after 20 s, $(mib "$rss") MiB = $(mb "$rss") MB after $((20 + window)) s (anonymous $(mib "$anon") MiB = $(mb "$anon") MB, pages of the binary $(mib "$file") MiB) | $target; omniagent run, VmRSS/RssAnon/RssFile of /proc/PID/status |"
	ms=$(( (t1 - t0[$p]) * 1000 / hz ))
	echo "| agent | idle CPU, $what | $ms ms over $window s = $(awk -v ms="$ms" -v w="$window" 'BEGIN { printf "%.3f", ms / (w * 10) }') %$([ "$window" -lt 600 ] && echo ", extrapolated to 10 min: $(awk -v ms="$ms" -v w="$window" 'BEGIN { printf "%.0f", ms * 600 / w }') ms") | target < 0.1 % over 10 min; utime+stime of /proc/PID/stat (tick = $((1000 / hz)) ms) |"
done
