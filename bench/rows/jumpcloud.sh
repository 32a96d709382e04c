#!/usr/bin/env bash
# JumpCloud figures: cost of one signed request (RSA-2048 signature) and of the hourly steady
# cycle against the in-repo fake (key files read, 4 signed GETs, no write).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -run '^$' -bench 'BenchmarkSign$|BenchmarkSteadyCycle$' -benchtime 50x -benchmem ./protocols/jumpcloud/ 2>&1) || { echo "| jumpcloud | benchmarks | (failed) | $(echo "$out" | tail -1) |"; exit 0; }
echo "$out" | awk '
/^BenchmarkSign-/ { printf "| jumpcloud | sign one request | %.2f ms, %d B, %d allocs | RSA-2048 PKCS#1 v1.5 |\n", $3/1e6, $5, $7 }
/^BenchmarkSteadyCycle-/ {
	for (i = 1; i <= NF; i++) { if ($i == "ns/op") ns = $(i-1); if ($i == "B/op") by = $(i-1); if ($i == "allocs/op") al = $(i-1); if ($i == "requests/op") rq = $(i-1) }
	printf "| jumpcloud | steady cycle (no change) | %.1f ms, %d KB, %d allocs | %d signed GETs, 0 PUT; includes the fake server verifying |\n", ns/1e6, by/1024, al, rq
}'
