#!/usr/bin/env bash
# Measures molbridge against moleculer in one run on this machine and prints
# the figures and ratios as a markdown table (the source of BENCHMARKS.md).
#
#   scripts/bench.sh [seconds per benchmark, default 3]
#   scripts/bench.sh --serializers [seconds] [rounds, default 3]
#     (the serializer table alone; the full run takes one round)
#   scripts/bench.sh --calls [seconds]   (the call tables alone)
#
# The serializer figures are taken packet type by packet type, Go then JS,
# so that both sides of a row are measured within seconds of each other on
# a shared machine; with several rounds each cell is the fastest of its
# rounds, for Go and JS alike.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
only_serializers=false
only_calls=false
case "${1:-}" in
--serializers) only_serializers=true; shift ;;
--calls) only_calls=true; shift ;;
esac
secs="${1:-3}"
rounds=1 # the full run takes one round of the serializer figures
if $only_serializers; then
	rounds="${2:-3}"
fi

scripts/deps.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! $only_calls; then
go test -c -o "$tmp/conformance.test" ./conformance
serializers=$(node -e 'process.stdout.write(require("./compat/wire").SERIALIZERS.join(" "))')
js_files=()
for round in $(seq "$rounds"); do
	for s in $serializers; do
		for t in REQ RES EVENT INFO; do
			(cd conformance && "$tmp/conformance.test" -test.run '^$' -test.bench "BenchmarkSerializers/^$s\$/^$t\$/" \
				-test.benchtime "${secs}s" -test.benchmem) >>"$tmp/go.txt"
			node compat/serbench.js --ms $((secs * 300)) --serializers "$s" --types "$t" >"$tmp/js-$round-$s-$t.json"
			js_files+=("$tmp/js-$round-$s-$t.json")
		done
	done
done
ser_table=$(node compat/benchtable.js "$tmp/go.txt" "${js_files[@]}")
fi
if $only_serializers; then
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(go env GOVERSION), node $(node --version), moleculer 0.14.36;" \
		"best of $rounds rounds."
	echo
	echo "$ser_table"
	exit 0
fi

scripts/brokers.sh nats >/dev/null

go_out=$(go test -run '^$' -bench 'BenchmarkLocalCall$|BenchmarkLocalCallMiddlewares|BenchmarkNATSCall|BenchmarkRawNATSRequest' \
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
mw_none_ns=$(ns 'LocalCallMiddlewares/none-'); mw_all_ns=$(ns 'LocalCallMiddlewares/all-')
go_mw_none=$(awk -v n="$mw_none_ns" 'BEGIN {printf "%d", 1e9/n}'); go_mw_all=$(awk -v n="$mw_all_ns" 'BEGIN {printf "%d", 1e9/n}')
js_mw_none=$(js localCallsNoFeaturesPerSec); js_mw_all=$(js localCallsAllFeaturesPerSec)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

cat <<TABLE
Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(go env GOVERSION), node $(node --version), moleculer 0.14.36.

| figure | molbridge (Go) | moleculer (JS) | Go / JS | raw nats.go | Go / raw |
|---|---:|---:|---:|---:|---:|
| local call, sequential (calls/s) | ${go_local} (${local_ns} ns/op, ${local_allocs} allocs/op) | ${jsl} | $(ratio "$go_local" "$jsl") | | |
| call over NATS, 1 in flight (calls/s) | ${go1%.*} | ${js1} | $(ratio "$go1" "$js1") | ${raw1%.*} | $(ratio "$go1" "$raw1") |
| call over NATS, 64 in flight (calls/s) | ${go64%.*} | ${js64} | $(ratio "$go64" "$js64") | ${raw64%.*} | $(ratio "$go64" "$raw64") |
TABLE

cat <<TABLE

Local calls through the built-in middlewares (\`BenchmarkLocalCallMiddlewares\`, and
\`compat/bench.js\` for the same action and options in JS): "none" has no built-in
feature at work; "all" has params validation, a bulkhead, a circuit breaker, a
request timeout, a retry policy and a fallback.

| figure | molbridge (Go) | moleculer (JS) | Go / JS |
|---|---:|---:|---:|
| local call, no built-in feature (calls/s) | ${go_mw_none} (${mw_none_ns} ns/op) | ${js_mw_none} | $(ratio "$go_mw_none" "$js_mw_none") |
| local call, every built-in feature (calls/s) | ${go_mw_all} (${mw_all_ns} ns/op) | ${js_mw_all} | $(ratio "$go_mw_all" "$js_mw_all") |
| all / none | $(ratio "$go_mw_all" "$go_mw_none") | $(ratio "$js_mw_all" "$js_mw_none") | |
TABLE

$only_calls && exit 0
echo
echo "Serializers: encode and decode of the payloads in conformance/testdata/bench-payloads.json."
echo
echo "$ser_table"
