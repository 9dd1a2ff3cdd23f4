#!/usr/bin/env bash
# Measures molbridge against moleculer in one run on this machine and prints
# the figures and ratios as a markdown table (the source of BENCHMARKS.md).
#
#   scripts/bench.sh [seconds per benchmark, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
secs="${1:-3}"

scripts/brokers.sh nats >/dev/null
scripts/deps.sh

ser_go=$(mktemp) ser_js=$(mktemp)
trap 'rm -f "$ser_go" "$ser_js"' EXIT
go test -run '^$' -bench 'BenchmarkSerializers' -benchtime "${secs}s" -count 1 ./conformance >"$ser_go"
node compat/serbench.js --ms $((secs * 300)) >"$ser_js"

go_out=$(go test -run '^$' -bench 'BenchmarkLocalCall$|BenchmarkNATSCall|BenchmarkRawNATSRequest' \
	-benchtime "${secs}s" -count 1 ./bridge)
js_out=$(node compat/bench.js --seconds "$secs")

# ns/op of a benchmark line
ns() { awk -v name="$1" '$1 ~ name {print $3; exit}' <<<"$go_out"; }
# calls/s metric of a benchmark line
cps() { awk -v name="$1" '$1 ~ name {for (i=1;i<=NF;i++) if ($(i+1)=="calls/s") {print $i; exit}}' <<<"$go_out"; }
js() { node -e "process.stdout.write(String(Math.round(JSON.parse(process.argv[1])[process.argv[2]])))" "$js_out" "$1"; }

local_ns=$(ns 'BenchmarkLocalCall-')
local_allocs=$(awk '$1 ~ /BenchmarkLocalCall-/ {print $(NF-1); exit}' <<<"$go_out")
go_local=$(awk -v n="$local_ns" 'BEGIN {printf "%d", 1e9/n}')
go1=$(cps 'NATSCall/inflight=1-'); go64=$(cps 'NATSCall/inflight=64-')
raw1=$(cps 'RawNATSRequest/inflight=1-'); raw64=$(cps 'RawNATSRequest/inflight=64-')
jsl=$(js localCallsPerSec); js1=$(js natsCallsPerSec1); js64=$(js natsCallsPerSec64)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

cat <<TABLE
Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(go env GOVERSION), node $(node --version), moleculer 0.14.36.

| figure | molbridge (Go) | moleculer (JS) | Go / JS | raw nats.go | Go / raw |
|---|---:|---:|---:|---:|---:|
| local call, sequential (calls/s) | ${go_local} (${local_ns} ns/op, ${local_allocs} allocs/op) | ${jsl} | $(ratio "$go_local" "$jsl") | | |
| call over NATS, 1 in flight (calls/s) | ${go1%.*} | ${js1} | $(ratio "$go1" "$js1") | ${raw1%.*} | $(ratio "$go1" "$raw1") |
| call over NATS, 64 in flight (calls/s) | ${go64%.*} | ${js64} | $(ratio "$go64" "$js64") | ${raw64%.*} | $(ratio "$go64" "$raw64") |
TABLE

echo
echo "Serializers: encode and decode of the payloads in conformance/testdata/bench-payloads.json."
echo
node compat/benchtable.js "$ser_go" "$ser_js"
