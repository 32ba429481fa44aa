#!/usr/bin/env bash
# Builds sqledge out of tree: scripts/build.sh [BUILD_DIR] [configure args...]
# BUILD_DIR defaults to ./build. Regenerates configure (./autogen.sh) when it is missing or older
# than configure.ac or Makefile.am, configures BUILD_DIR, then runs make with one job per CPU.
# CC and CFLAGS from the environment reach configure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
case $build in
/*) ;;
*) build=$PWD/$build ;;
esac

cd "$top"
if [ ! -x configure ] || [ configure -ot configure.ac ] || [ configure -ot Makefile.am ] ||
	[ ! -f Makefile.in ] || [ Makefile.in -ot Makefile.am ] || [ ! -f build-aux/install-sh ]; then
	echo "build: running ./autogen.sh"
	./autogen.sh
fi

mkdir -p "$build"
cd "$build"
# Configure a new build dir; reconfigure an existing one only when given other arguments (or
# another CC/CFLAGS) than last time; otherwise make's own rules rerun config.status as needed.
want="CC=${CC:-} CFLAGS=${CFLAGS:-} configure $*"
if [ ! -f Makefile ] || { { [ $# -gt 0 ] || [ -n "${CC:-}${CFLAGS:-}" ]; } &&
	[ "$(cat .sqledge-configure 2>/dev/null)" != "$want" ]; }; then
	echo "build: configuring $build: $want"
	"$top/configure" "$@"
	printf '%s' "$want" >.sqledge-configure
fi
make -j"$(nproc)"
echo "build: done in $build"
