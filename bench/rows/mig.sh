#!/usr/bin/env bash
# MIG adapter row: one signed file-module command end to end through a real RabbitMQ broker
# (OMNIAGENT_TEST_AMQP_URL, default amqp://guest:guest@127.0.0.1:5672/), scheduler and agent in
# one process. Bounded: ~5 s. Without a broker the benchmark skips and the row says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -v -run '^$' -bench 'BenchmarkSignedFileCommand' -benchmem -benchtime=2s -count=1 ./protocols/mig/ 2>&1 | grep -v '^time=' || true)
line=$(echo "$out" | awk '$1 ~ /^BenchmarkSignedFileCommand(-[0-9]+)?$/ && $4 == "ns/op"')
if [ -z "$line" ]; then
	reason=$(echo "$out" | grep -m1 -E 'no RabbitMQ broker|FAIL|SKIP' | tr '|' '/' | cut -c1-160 || true)
	echo "| mig | signed file command via broker | (not measured) | ${reason:-no benchmark output} |"
	exit 0
fi
echo "$line" | awk '{ printf "| mig | signed file command via broker | %.3f ms, %s B, %s allocs | publish → verify RSA-2048 + ACL → file search → confirmed result → scheduler checks (both sides counted) |\n", $3/1e6, $5, $7 }'

# Verification alone (one RSA-2048 signature, signed string, ACL) and the file module on a
# 10,000-file tree: the parts of a command that do not depend on the broker.
go test -run '^$' -bench 'BenchmarkVerify$' -benchmem -count=1 ./protocols/mig/action/ 2>/dev/null |
	awk '$1 ~ /^BenchmarkVerify(-[0-9]+)?$/ { printf "| mig | verify one signed action | %.1f µs, %s allocs | RSA-2048, signed string, ACL |\n", $3/1e3, $7 }'
go test -run '^$' -bench 'BenchmarkFileModule' -benchmem -count=1 ./protocols/mig/modules/file/ 2>/dev/null |
	awk '$1 ~ /^BenchmarkFileModule/ && $4 == "ns/op" { name=$1; sub(/^BenchmarkFileModule\//, "", name); sub(/-[0-9]+$/, "", name); printf "| mig | file module, 10k files, %s | %.0f ms | %.0f files/s |\n", name, $3/1e6, 10000/($3/1e9) }'
