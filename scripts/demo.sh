#!/usr/bin/env bash
# molbridge's demo: a Go node and a JS node calling each other over the TCP
# transporter, with no message broker.
#
#   scripts/demo.sh
#
# Sets up what the demo needs (idempotent: scripts/deps.sh installs Node.js
# and compat/node_modules when missing), then starts the JS node
# compat/demo.js in the background and runs the Go node examples/demo; they
# find each other from a static list of addresses on 127.0.0.1 (ports 4501
# and 4502). Exits 0 when both sides called each other. With TRANSPORTER set
# (e.g. nats://127.0.0.1:4222) both nodes use that broker instead.
#
# Environment: DEMO_TIMEOUT (seconds each side waits for the other, 60).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null 2>&1 || { echo "demo.sh: go not found; install Go first" >&2; exit 1; }

case "${TRANSPORTER:-}" in
nats://*) bash scripts/brokers.sh nats ;;
esac
bash scripts/deps.sh

export DEMO_TIMEOUT=${DEMO_TIMEOUT:-60}
JS_PID=
cleanup() {
	if [ -n "$JS_PID" ] && kill -0 "$JS_PID" 2>/dev/null; then
		kill -TERM "$JS_PID" 2>/dev/null || true
		wait "$JS_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Compile first (go run then starts at once), so the JS node does not wait
# on the compiler.
go build -o /dev/null ./examples/demo

echo "== molbridge demo: Go node go-demo and JS node js-demo, over ${TRANSPORTER:-the TCP transporter (no broker)}"
node compat/demo.js </dev/null &
JS_PID=$!

go_rc=0
go run ./examples/demo || go_rc=$?

# The JS node stops by itself once the Go node has left.
js_rc=0
for _ in $(seq 1 100); do
	kill -0 "$JS_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$JS_PID" 2>/dev/null; then
	echo "demo.sh: the JS node did not stop by itself; stopping it" >&2
	js_rc=1
else
	wait "$JS_PID" || js_rc=$?
	JS_PID=
fi

if [ "$go_rc" -ne 0 ] || [ "$js_rc" -ne 0 ]; then
	echo "== demo failed (Go exit $go_rc, JS exit $js_rc)" >&2
	exit 1
fi
echo "== demo done: Go called JS and JS called Go."
