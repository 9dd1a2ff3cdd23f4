#!/usr/bin/env bash
# Make sure the Node.js side of molbridge's tests can run:
#   - Node.js and npm are installed (from Debian's apt when `node` is missing);
#   - compat/node_modules is installed and not older than
#     compat/package.json / compat/package-lock.json.
# Idempotent and silent when there is nothing to do.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPAT=$ROOT/compat

die() { printf 'deps.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	command -v apt-get >/dev/null 2>&1 || die "node/npm missing and apt-get not available; install Node.js >= 18 yourself"
	echo "deps.sh: installing nodejs and npm with apt-get"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	command -v node >/dev/null 2>&1 || die "node still missing after apt-get install nodejs"
	command -v npm >/dev/null 2>&1 || die "npm still missing after apt-get install npm"
fi

[ -f "$COMPAT/package.json" ] || die "$COMPAT/package.json not found"

need_install=0
if [ -L "$COMPAT/node_modules" ]; then
	# A link to another checkout's packages (a git worktree): that checkout
	# keeps them up to date; npm would replace the link with a copy.
	[ -d "$COMPAT/node_modules" ] || die "$COMPAT/node_modules is a broken link"
elif [ ! -d "$COMPAT/node_modules" ]; then
	need_install=1
else
	for f in "$COMPAT/package.json" "$COMPAT/package-lock.json"; do
		if [ -f "$f" ] && [ "$f" -nt "$COMPAT/node_modules" ]; then
			need_install=1
		fi
	done
fi

if [ "$need_install" -eq 1 ]; then
	echo "deps.sh: npm install in compat/"
	# `npm install` honours the lockfile; `npm ci` fails on the optional
	# native cbor-extract packages on these machines.
	(cd "$COMPAT" && npm install --no-audit --no-fund --loglevel=error) ||
		die "npm install failed in $COMPAT"
	# npm does not always touch node_modules itself; mark it as up to date
	# so that the next run stays quiet.
	touch "$COMPAT/node_modules"
fi
