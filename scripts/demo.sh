#!/usr/bin/env bash
# The run command: installs what is missing, builds, starts a throwaway PostgreSQL 15 cluster
# (./.demo/pg, port 54329, wal_level=logical) with the original try-it-out set up, and runs
# sqledge in the foreground on ./sqledge.db. Ctrl-C stops sqledge, then the demo cluster.
# Environment: SQLEDGE_DEMO_PORT (default 54329). The system PostgreSQL is never touched.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
port=${SQLEDGE_DEMO_PORT:-54329}
bindir=/usr/lib/postgresql/15/bin
demo=$top/.demo
pgdir=$demo/pg

scripts/install-deps.sh
scripts/build.sh build

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		# the postgres user must be able to enter the current directory
		(cd "$pgdir/" && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

mkdir -p "$demo"
# nothing under .demo belongs in git
[ -f "$demo/.gitignore" ] || echo '*' >"$demo/.gitignore"
# a cluster kept in /tmp (see below) does not survive a reboot: forget the dangling link
if [ -L "$pgdir" ] && [ ! -d "$pgdir/" ]; then
	rm -f "$pgdir"
fi
if [ ! -e "$pgdir" ]; then
	if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$demo"; then
		# the checkout is private (e.g. under /root), so the postgres user could not reach
		# ./.demo/pg: keep the cluster in /tmp and point ./.demo/pg at it
		real=$(mktemp -d /tmp/sqledge-demo-pg.XXXXXX)
		chmod 755 "$real"
		ln -s "$real" "$pgdir"
	else
		mkdir -p "$pgdir"
	fi
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdir/"
fi
# the postgres user reaches the cluster by its real path, never through a private directory
pgdir=$(readlink -f "$pgdir")

if [ ! -f "$pgdir/data/PG_VERSION" ]; then
	echo "demo: creating a PostgreSQL 15 cluster in $pgdir"
	as_postgres "$bindir/initdb" -D "$pgdir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >"$demo/initdb.log"
	as_postgres tee -a "$pgdir/data/postgresql.conf" >/dev/null <<CONF

# sqledge demo
port = $port
listen_addresses = 'localhost'
unix_socket_directories = '$pgdir'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
CONF
	as_postgres tee "$pgdir/data/pg_hba.conf" >/dev/null <<'HBA'
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
HBA
fi

started=0
stop_cluster() {
	if [ "$started" = 1 ]; then
		echo "demo: stopping the demo PostgreSQL cluster"
		as_postgres "$bindir/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null || true
	fi
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if as_postgres "$bindir/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
	echo "demo: the demo cluster is already running; using it"
else
	echo "demo: starting PostgreSQL on localhost:$port"
	if ! as_postgres "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 start \
		>/dev/null; then
		echo "demo: PostgreSQL did not start (port $port taken? set SQLEDGE_DEMO_PORT); its log:" >&2
		tail -n 20 "$pgdir/postgres.log" >&2
		exit 1
	fi
	started=1
fi

"$bindir/psql" -h "$pgdir" -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'create database myappdatabase'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'myappdatabase')\gexec
SELECT 'create user sqledger with login superuser password ''secret'''
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sqledger')\gexec
SQL

cat <<EOF_HELP

==== sqledge demo ====
PostgreSQL 15 on localhost:$port (data in ./.demo/pg): database myappdatabase, superuser
sqledger, password secret. sqledge replicates it into ./sqledge.db and serves it as PostgreSQL
on localhost:5433 (reads it can answer exactly from the copy, everything else from the
upstream). In another terminal, in $top, try:

  psql postgresql://sqledger:secret@localhost:5433/myappdatabase \\
    -c "CREATE TABLE my_table (id serial not null primary key, names text)" \\
    -c "INSERT INTO my_table (names) VALUES ('Jane'), ('John')" \\
    -c "SELECT * FROM my_table"
  sqlite3 ./sqledge.db .schema
  sqlite3 ./sqledge.db 'SELECT * FROM my_table'
  build/src/sqledgectl status

Ctrl-C stops sqledge and the demo cluster; run scripts/demo.sh again to resume where it left off.
======================

EOF_HELP

# In the foreground, not exec'ed, so the EXIT trap can stop the cluster afterwards.
SQLEDGE_UPSTREAM_USER=sqledger SQLEDGE_UPSTREAM_PASSWORD=secret \
	SQLEDGE_UPSTREAM_NAME=myappdatabase SQLEDGE_UPSTREAM_PORT=$port \
	SQLEDGE_LOCAL_DB_PATH=./sqledge.db "$top/build/src/sqledge"
