#!/usr/bin/env bash
# Run molbridge's checks and tests.
#
#   scripts/test.sh            the tests (the README's test command)
#   scripts/test.sh --matrix   the same, then the live suite over the CI
#                              cells of the transporter x serializer matrix
#                              (.ci/run runs this)
#
# 1. set-up, idempotent: scripts/brokers.sh (NATS, Redis, Mosquitto,
#    RabbitMQ, NATS Streaming and the Kafka test broker on 127.0.0.1,
#    installed when missing) and scripts/deps.sh (Node.js and
#    compat/node_modules, for the tests that run JS moleculer nodes);
# 2. go vet ./...;
# 3. go test -count=1 ./... (the live interop suite runs there over
#    NATS + JSON; every transporter package checks itself against JS nodes);
# 4. go test -race -count=1 on the core packages;
# 5. with --matrix: molbridge conformance over the cells in CI_CELLS (or
#    MOLBRIDGE_CI_CELLS). Cells left out are printed, with the reason.
#
# Exits non-zero on the first failure. Each go command runs in its own
# process group, which is killed when it ends, so that no node process a
# test started outlives the script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null 2>&1 || { echo "test.sh: go not found; install Go first" >&2; exit 1; }

CORE=(./protocol/... ./packets/... ./serializers/... ./transporters/... ./bridge/...)

# ---------------------------------------------------------------- process groups

GROUP=
kill_group() {
	local pgid=$1
	[ -n "$pgid" ] || return 0
	if kill -0 -- "-$pgid" 2>/dev/null; then
		kill -TERM -- "-$pgid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$pgid" 2>/dev/null || return 0
			sleep 0.2
		done
		kill -KILL -- "-$pgid" 2>/dev/null || true
	fi
}
trap 'kill_group "$GROUP"' EXIT
trap 'kill_group "$GROUP"; exit 130' INT TERM

# in_group CMD...: run CMD in a process group of its own and wait for it;
# then kill whatever is left in that group.
in_group() {
	local rc=0
	set -m
	"$@" </dev/null &
	GROUP=$!
	set +m
	wait "$GROUP" || rc=$?
	kill_group "$GROUP"
	GROUP=
	return "$rc"
}

step() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------- steps

matrix=
for arg in "$@"; do
	case "$arg" in
	--matrix) matrix=1 ;;
	*) echo "test.sh: unknown argument $arg (usage: scripts/test.sh [--matrix])" >&2; exit 2 ;;
	esac
done

step "set-up"
bash scripts/brokers.sh
bash scripts/deps.sh
go version
node --version | sed 's/^/node /'

step "go vet ./..."
in_group go vet ./...

step "go test -count=1 ./..."
in_group go test -count=1 ./...

step "go test -race -count=1 (core packages)"
in_group go test -race -count=1 "${CORE[@]}"

[ -n "$matrix" ] || exit 0

# The CI cells: NATS with every serializer but JSON (step 3 ran it), every
# other transporter with JSON, and Redis with MsgPack. The rest of the 56
# cells run in the full matrix (molbridge conformance, conformance/REPORT.md),
# which takes about half an hour on 2 cores: too long for CI.
CI_CELLS=NATS:Avro,NATS:MsgPack,NATS:Notepack,NATS:ProtoBuf,NATS:Thrift,NATS:CBOR
CI_CELLS+=,Redis:JSON,Redis:MsgPack,MQTT:JSON,AMQP:JSON,AMQP10:JSON,STAN:JSON,Kafka:JSON,TCP:JSON
NOT_IN_CI="the other serializers on Redis, MQTT, AMQP, AMQP10, STAN, Kafka and TCP (the full matrix runs them: go run ./cmd/molbridge conformance)"
CI_CELLS=${MOLBRIDGE_CI_CELLS:-$CI_CELLS}
step "live conformance matrix (molbridge conformance --cells $CI_CELLS)"
[ -n "${MOLBRIDGE_CI_CELLS:-}" ] || echo "not run here: $NOT_IN_CI"
matrix_start=$SECONDS
in_group go run ./cmd/molbridge conformance --cells "$CI_CELLS" \
	--report "${TMPDIR:-/tmp}/molbridge-conformance-ci.md"
echo "matrix: $((SECONDS - matrix_start))s"
