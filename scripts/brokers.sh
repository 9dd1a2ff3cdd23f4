#!/usr/bin/env bash
# Make the message brokers that molbridge's tests use available on 127.0.0.1.
#
#   scripts/brokers.sh [nats] [redis] [mqtt] [amqp] [stan] [kafka]
#                                           (no argument = all six)
#
# For each broker: install the Debian package when its binary is missing,
# start it bound to 127.0.0.1 when its port is closed, then wait (bounded)
# until it is ready and print one line. A broker that already listens on its
# port is used as it is (detection is by port, never by a pid file), so a
# second run only checks readiness and takes about two seconds.
#
# Idempotent. Needs root (or sudo) only to install packages and to start
# RabbitMQ. Daemon state and logs go to $MOLBRIDGE_BROKERS_DIR
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/molbridge/brokers), never into the
# repository; RabbitMQ keeps the Debian package's own directories, because
# rabbitmqctl finds the node (and its Erlang cookie) there.
#
# Environment:
#   MOLBRIDGE_BROKERS_DIR   state/log directory (see above)
#   MOLBRIDGE_BROKERS_WAIT  seconds to wait for each broker to become ready (60)
#   MOLBRIDGE_NATS_PORT, MOLBRIDGE_NATS_MONITOR_PORT, MOLBRIDGE_REDIS_PORT,
#   MOLBRIDGE_MQTT_PORT     override the ports (4222, 8222, 6379, 1883); the
#                           tests expect the defaults. RabbitMQ is always 5672.
#   MOLBRIDGE_STAN_PORT, MOLBRIDGE_STAN_MONITOR_PORT, MOLBRIDGE_KAFKA_PORT
#                           likewise (4223, 8223, 9092)
#
# Two brokers are not Debian packages: nats-streaming-server is built with
# `go install` into $MOLBRIDGE_BROKERS_DIR/bin, and Kafka is molbridge's own
# in-memory test broker (cmd/kafkabroker, built from this repository).
#
# Adding a broker (e.g. kafka, stan): add its name to ALL_BROKERS and define
#   <name>_label            short name printed in messages
#   <name>_host/<name>_port where it listens
#   <name>_installed        succeeds when its binaries are present
#   <name>_packages         prints the apt packages that provide them
#                           (or do the install itself in <name>_install)
#   <name>_start            starts it in the background, bound to 127.0.0.1
#   <name>_ready            succeeds when it accepts clients
#   <name>_post             (optional) one-off set-up once it is ready
set -euo pipefail

ALL_BROKERS=(nats redis mqtt amqp stan kafka)

STATE_DIR=${MOLBRIDGE_BROKERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/molbridge/brokers}
WAIT_SECS=${MOLBRIDGE_BROKERS_WAIT:-60}

NATS_PORT=${MOLBRIDGE_NATS_PORT:-4222}
NATS_MONITOR_PORT=${MOLBRIDGE_NATS_MONITOR_PORT:-8222}
REDIS_PORT=${MOLBRIDGE_REDIS_PORT:-6379}
MQTT_PORT=${MOLBRIDGE_MQTT_PORT:-1883}
AMQP_PORT=5672
STAN_PORT=${MOLBRIDGE_STAN_PORT:-4223}
STAN_MONITOR_PORT=${MOLBRIDGE_STAN_MONITOR_PORT:-8223}
STAN_VERSION=v0.25.6
KAFKA_PORT=${MOLBRIDGE_KAFKA_PORT:-9092}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- helpers

say() { printf '%s\n' "$*"; }
warn() { printf 'brokers.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi
as_root() {
	if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
		die "need root (or sudo) to run: $*"
	fi
	"${SUDO[@]}" "$@"
}

# port_open HOST PORT: succeeds when something accepts TCP connections there.
port_open() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# run_detached LOGFILE CMD...: start CMD in its own session so that it
# outlives this script (and any process group that gets killed with it).
run_detached() {
	local log=$1
	shift
	setsid nohup "$@" </dev/null >>"$log" 2>&1 &
}

# wait_until SECONDS CMD...: poll CMD until it succeeds or the time is up.
wait_until() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	while true; do
		if "$@"; then return 0; fi
		if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
		sleep 0.25
	done
}

APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages yourself: $*"
	if [ "$APT_UPDATED" -eq 0 ]; then
		say "apt: updating package lists"
		as_root apt-get update -qq || die "apt-get update failed"
		APT_UPDATED=1
	fi
	say "apt: installing $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
		die "apt-get install $* failed"
}

# ---------------------------------------------------------------- NATS

nats_label() { echo nats; }
nats_host() { echo 127.0.0.1; }
nats_port() { echo "$NATS_PORT"; }
nats_installed() { command -v nats-server >/dev/null 2>&1; }
nats_packages() { echo nats-server; }
nats_start() {
	local dir=$STATE_DIR/nats-$NATS_PORT
	mkdir -p "$dir"
	# JetStream is on as on the CI machine; moleculer itself does not need it.
	run_detached "$dir/nats-server.log" \
		nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -js -sd "$dir/jetstream"
}
nats_ready() { port_open 127.0.0.1 "$NATS_PORT"; }

# ---------------------------------------------------------------- Redis

redis_label() { echo redis; }
redis_host() { echo 127.0.0.1; }
redis_port() { echo "$REDIS_PORT"; }
redis_installed() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }
redis_packages() { echo redis-server redis-tools; }
redis_start() {
	local dir=$STATE_DIR/redis-$REDIS_PORT
	mkdir -p "$dir"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
		--save '' --appendonly no --dir "$dir" \
		--logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
}
redis_ready() {
	[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

# ---------------------------------------------------------------- MQTT (mosquitto)

mqtt_label() { echo mosquitto; }
mqtt_host() { echo 127.0.0.1; }
mqtt_port() { echo "$MQTT_PORT"; }
mqtt_installed() { command -v mosquitto >/dev/null 2>&1; }
mqtt_packages() { echo mosquitto mosquitto-clients; }
mqtt_start() {
	local dir=$STATE_DIR/mosquitto-$MQTT_PORT
	mkdir -p "$dir"
	cat >"$dir/mosquitto.conf" <<EOF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest file $dir/mosquitto.log
EOF
	touch "$dir/mosquitto.log"
	# Started as root, mosquitto drops to the 'mosquitto' user before it
	# opens its log file.
	if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then
		chown mosquitto "$dir/mosquitto.log"
	fi
	mosquitto -c "$dir/mosquitto.conf" -d
}
mqtt_ready() { port_open 127.0.0.1 "$MQTT_PORT"; }

# ---------------------------------------------------------------- AMQP (RabbitMQ)

amqp_label() { echo rabbitmq; }
amqp_host() { echo 127.0.0.1; }
amqp_port() { echo "$AMQP_PORT"; }
amqp_installed() {
	command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1 &&
		command -v epmd >/dev/null 2>&1
}
amqp_packages() { echo rabbitmq-server; }
amqp_start() {
	local envfile=/etc/rabbitmq/rabbitmq-env.conf
	# Only ever create the env file. An existing one is left alone: changing
	# NODENAME under a node that runs (or ran) would make rabbitmqctl look
	# for a node that is not there.
	if [ ! -e "$envfile" ]; then
		{
			echo "# written by molbridge scripts/brokers.sh"
			echo "NODE_IP_ADDRESS=127.0.0.1"
			# epmd only listens on loopback below; rabbitmqctl looks the node
			# up through its host name, so that name must be loopback too.
			local addr
			addr=$(getent hosts "$(hostname -s 2>/dev/null || hostname)" 2>/dev/null | awk '{print $1; exit}')
			case "$addr" in
			127.* | ::1) ;;
			*) echo "NODENAME=rabbit@localhost" ;;
			esac
		} | as_root tee "$envfile" >/dev/null
	fi
	# A node that is already booting (e.g. started by systemd right after
	# apt-get install on a machine without policy-rc.d) answers ping before
	# its AMQP listener is up: leave it alone and just wait for it.
	if port_open 127.0.0.1 4369 && as_root rabbitmqctl -q -t 3 ping >/dev/null 2>&1; then
		return 0
	fi
	if ! port_open 127.0.0.1 4369; then
		as_root epmd -address 127.0.0.1 -daemon
	fi
	# Debian's wrapper switches to the rabbitmq user and logs to
	# /var/log/rabbitmq/.
	as_root rabbitmq-server -detached >/dev/null 2>&1
}
amqp_ready() {
	port_open 127.0.0.1 "$AMQP_PORT" && as_root rabbitmqctl -q -t 5 await_startup >/dev/null 2>&1
}
amqp_post() {
	# moleculer's AMQP 1.0 transporter talks to the same RabbitMQ. Enable the
	# plugin on the running node (the --offline form only acts at next boot).
	local running
	running=$(as_root rabbitmqctl -q eval \
		'lists:keymember(rabbitmq_amqp1_0, 1, application:which_applications()).' 2>/dev/null || true)
	if [ "$running" != true ]; then
		as_root rabbitmq-plugins -q enable rabbitmq_amqp1_0 >/dev/null ||
			{ warn "rabbitmq: could not enable the rabbitmq_amqp1_0 plugin"; return 1; }
	fi
}

# ---------------------------------------------------------------- NATS Streaming (STAN)

# Not packaged by Debian: built from source (about a minute the first time).
stan_bin() { echo "$STATE_DIR/bin/nats-streaming-server"; }
stan_label() { echo nats-streaming; }
stan_host() { echo 127.0.0.1; }
stan_port() { echo "$STAN_PORT"; }
stan_installed() { [ -x "$(stan_bin)" ]; }
stan_install() {
	command -v go >/dev/null 2>&1 || die "nats-streaming: the go command is needed to build nats-streaming-server"
	say "nats-streaming: building nats-streaming-server $STAN_VERSION into $STATE_DIR/bin"
	mkdir -p "$STATE_DIR/bin"
	(cd "$STATE_DIR" && GOBIN="$STATE_DIR/bin" GOFLAGS= go install "github.com/nats-io/nats-streaming-server@$STAN_VERSION") ||
		die "nats-streaming: go install failed"
}
stan_start() {
	local dir=$STATE_DIR/stan-$STAN_PORT
	mkdir -p "$dir"
	# -mc 0: no channel limit; every moleculer node makes ~12 channels per
	# namespace and the default of 100 runs out after a few test runs.
	run_detached "$dir/nats-streaming-server.log" \
		"$(stan_bin)" -a 127.0.0.1 -p "$STAN_PORT" -m "$STAN_MONITOR_PORT" \
		-cid test-cluster -st MEMORY -mc 0 -mi 10m -ma 10m
}
stan_ready() {
	if command -v curl >/dev/null 2>&1; then
		curl -sf "http://127.0.0.1:$STAN_MONITOR_PORT/streaming/serverz" >/dev/null
	else
		port_open 127.0.0.1 "$STAN_PORT"
	fi
}

# ---------------------------------------------------------------- Kafka (in-memory test broker)

# cmd/kafkabroker: kfake behind a translator for kafka-node's old protocol
# versions. Rebuilt when its sources are newer than the binary.
kafka_bin() { echo "$STATE_DIR/bin/molbridge-kafkabroker"; }
kafka_label() { echo kafka; }
kafka_host() { echo 127.0.0.1; }
kafka_port() { echo "$KAFKA_PORT"; }
kafka_installed() {
	[ -x "$(kafka_bin)" ] &&
		[ -z "$(find "$REPO_DIR/cmd/kafkabroker" "$REPO_DIR/internal/kafkabroker" -newer "$(kafka_bin)" -print -quit 2>/dev/null)" ]
}
kafka_install() {
	command -v go >/dev/null 2>&1 || die "kafka: the go command is needed to build cmd/kafkabroker"
	say "kafka: building cmd/kafkabroker into $STATE_DIR/bin"
	mkdir -p "$STATE_DIR/bin"
	(cd "$REPO_DIR" && go build -o "$(kafka_bin)" ./cmd/kafkabroker) || die "kafka: go build failed"
}
kafka_start() {
	local dir=$STATE_DIR/kafka-$KAFKA_PORT
	mkdir -p "$dir"
	run_detached "$dir/kafkabroker.log" "$(kafka_bin)" -addr "127.0.0.1:$KAFKA_PORT"
}
kafka_ready() { port_open 127.0.0.1 "$KAFKA_PORT"; }

# ---------------------------------------------------------------- driver

has_fn() { declare -F "$1" >/dev/null; }

main() {
	local brokers=() b
	if [ $# -eq 0 ]; then
		brokers=("${ALL_BROKERS[@]}")
	else
		for b in "$@"; do
			case " ${ALL_BROKERS[*]} " in
			*" $b "*) brokers+=("$b") ;;
			*) die "unknown broker '$b' (known: ${ALL_BROKERS[*]})" ;;
			esac
		done
	fi
	mkdir -p "$STATE_DIR"

	# 1. install what is missing, with a single apt run
	local pkgs=()
	for b in "${brokers[@]}"; do
		if ! "${b}_installed"; then
			if has_fn "${b}_install"; then
				"${b}_install"
			else
				# shellcheck disable=SC2207
				pkgs+=($("${b}_packages"))
			fi
		fi
	done
	if [ ${#pkgs[@]} -gt 0 ]; then apt_install "${pkgs[@]}"; fi
	for b in "${brokers[@]}"; do
		"${b}_installed" || die "$("${b}_label"): still not installed after installing its packages"
	done

	# 2. start what is not listening (all of them first, then wait: they boot
	#    in parallel)
	for b in "${brokers[@]}"; do
		if ! port_open "$("${b}_host")" "$("${b}_port")"; then
			say "$("${b}_label"): starting on $("${b}_host"):$("${b}_port")"
			"${b}_start" || die "$("${b}_label"): could not be started (logs: $STATE_DIR)"
		fi
	done

	# 3. wait until each is ready
	local failed=0
	for b in "${brokers[@]}"; do
		local label addr
		label=$("${b}_label")
		addr="$("${b}_host"):$("${b}_port")"
		if ! wait_until "$WAIT_SECS" "${b}_ready"; then
			warn "$label: not ready on $addr after ${WAIT_SECS}s (logs: $STATE_DIR; RabbitMQ: /var/log/rabbitmq)"
			failed=1
			continue
		fi
		if has_fn "${b}_post" && ! "${b}_post"; then
			failed=1
			continue
		fi
		say "$label: ready on $addr"
	done
	[ "$failed" -eq 0 ] || die "some brokers are not ready"
}

main "$@"
