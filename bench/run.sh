#!/usr/bin/env bash
# Runs a benchmark: bench/run.sh [initial-sync | proxy | edge | replication] [options of it]
# (initial-sync when no name is given: bench/run.sh --scale 10 still works).
# Builds sqledge first when needed (scripts/build.sh into $SQLEDGE_BUILD_DIR, default ./build;
# an existing build dir is only brought up to date by make), then runs bench/initial_sync.py,
# bench/proxy.py, bench/edge.py or bench/replication.py with the system Python. SQLEDGE_BENCH_NO_BUILD=1 skips the
# build step.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${SQLEDGE_BUILD_DIR:-$top/build}
case $build in
/*) ;;
*) build=$PWD/$build ;;
esac

script=initial_sync.py
case ${1:-} in
initial-sync | initial_sync) shift ;;
proxy)
	script=proxy.py
	shift
	;;
edge)
	script=edge.py
	shift
	;;
replication)
	script=replication.py
	shift
	;;
-* | '') ;;
*)
	echo "run.sh: unknown benchmark '$1' (initial-sync, proxy, edge or replication)" >&2
	exit 2
	;;
esac

no_build=${SQLEDGE_BENCH_NO_BUILD:-0}
for arg in "$@"; do
	case $arg in
	-h | --help) no_build=1 ;;
	esac
done

if [ "$no_build" != 1 ]; then
	if [ -f "$build/Makefile" ]; then
		make -C "$build" -j"$(nproc)" >"$build/bench-build.log" 2>&1 || {
			tail -n 30 "$build/bench-build.log" >&2
			echo "run.sh: building in $build failed (log: $build/bench-build.log)" >&2
			exit 1
		}
	else
		"$top/scripts/build.sh" "$build" >&2
	fi
fi

export SQLEDGE_BUILD_DIR=$build
exec /usr/bin/python3 "$top/bench/$script" "$@"
