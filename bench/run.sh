#!/usr/bin/env bash
# `make bench`: Go benchmarks, then every bench/rows/*.sh, which print table rows
# "| area | metric | value | note |". Results go to stdout and bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
echo "== Go benchmarks"
go test -run '^$' -bench . -benchmem -count=1 ./... 2>&1 | tee bench/out/go-bench.txt | grep -E '^(Benchmark|ok|FAIL|---)' || true
echo
echo "| area | metric | value | note |"
echo "|---|---|---|---|"
for row in bench/rows/*.sh; do
	[ -e "$row" ] || continue
	bash "$row" || echo "| $(basename "$row" .sh) | (script failed) | - | see output above |"
done
