#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and try sqledge. Only what is missing
# is installed; when nothing is missing, apt is not touched at all (fast reruns).
# Runs apt-get directly as root, otherwise through sudo (sudo -n when there is no terminal).
# Leaves the system PostgreSQL cluster alone: sqledge's tests and demo use their own clusters.
set -euo pipefail

packages=(
	build-essential pkg-config autoconf automake git
	libpq-dev libsqlite3-dev libevent-dev libinih-dev libpg-query-dev libprotobuf-c-dev libssl-dev libicu-dev
	postgresql postgresql-contrib sqlite3
	clang clang-format libclang-rt-14-dev mandoc
	python3-pytest python3-psycopg2
	libpostgresql-jdbc-java pgbouncer
	debhelper dpkg-dev fakeroot
)
# the client-driver checks (tests/integration/test_drivers.py) need a JDK and node with npm; a
# JDK or a node installed some other way is used as it is
if ! command -v javac >/dev/null 2>&1; then
	packages+=(default-jdk-headless)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi
echo "install-deps: missing: ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	if [ -t 0 ]; then
		as_root=(sudo)
	else
		as_root=(sudo -n)
	fi
	if ! "${as_root[@]}" true; then
		echo "install-deps: sudo is not possible here (a password is needed and there is no terminal)." >&2
		echo "install-deps: run 'sudo $0' once from a terminal, or as root:" >&2
		echo "    apt-get install ${missing[*]}" >&2
		exit 1
	fi
else
	echo "install-deps: not root and sudo is not installed; as root, run:" >&2
	echo "    apt-get install ${missing[*]}" >&2
	exit 1
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${apt[@]}" update </dev/null
"${apt[@]}" install "${missing[@]}" </dev/null
echo "install-deps: done"
