#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages, the node modules of the client-driver
# checks), then builds and checks sqledge every way CI does:
#   1. gcc build with -Werror + C unit tests      2. clang build with -Werror
#   3. ASan/UBSan build (clang) + C unit tests    4. fuzz smoke: every libFuzzer target for 60 s
#   5. clang-format, git diff --check, mandoc     6. integration suite (pytest) on the gcc and the ASan builds
# It goes on after a failed stage and ends with one line "N passed, N failed" (one count per stage,
# plus pytest's own test counts), exiting non-zero when anything failed.
# Environment: SQLEDGE_TEST_ASAN_INTEGRATION=0 skips the second integration run against the ASan
# build (it roughly doubles the run time); SQLEDGE_FUZZ_SECONDS (default 60);
# SQLEDGE_PYTEST_ARGS adds pytest arguments (for example "-k streaming").
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

python=/usr/bin/python3
fuzz_seconds=${SQLEDGE_FUZZ_SECONDS:-60}
nproc=$(nproc)
passed=0
failed=0
failures=()
started=$SECONDS

header() {
	printf '\n==== %s ====\n' "$1"
}

# run_stage NAME COMMAND...: one counted stage
run_stage() {
	local name=$1 t0=$SECONDS
	shift
	header "$name"
	if "$@"; then
		passed=$((passed + 1))
		printf -- '---- %s: ok (%ss)\n' "$name" $((SECONDS - t0))
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf -- '---- %s: FAILED (%ss)\n' "$name" $((SECONDS - t0))
	fi
}

# make check in BUILD_DIR, printing the logs of failed tests
make_check() {
	local dir=$1
	if make -C "$dir" -j"$nproc" check; then
		return 0
	fi
	for log in "$dir"/tests/unit/*.log; do
		[ -f "$log" ] || continue
		if grep -q -E '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
			printf -- '--- %s\n' "$log"
			tail -n 50 "$log"
		fi
	done
	return 1
}

stage_gcc() {
	CC=gcc scripts/build.sh build-gcc --enable-werror && make_check build-gcc
}

stage_clang() {
	CC=clang scripts/build.sh build-clang --enable-werror
}

stage_asan() {
	CC=clang scripts/build.sh build-asan --enable-werror --enable-sanitizers &&
		UBSAN_OPTIONS=print_stacktrace=1 make_check build-asan
}

stage_fuzz_build() {
	CC=clang scripts/build.sh build-fuzz --enable-werror --enable-fuzzers
}

# run_fuzzer BINARY: FUZZ_SECONDS on a scratch copy of tests/fuzz/corpus/<name>/ (the binary's
# name with or without its fuzz_ prefix), so the checked-in corpus is never modified
run_fuzzer() {
	local bin=$1 name tmp rc corpus
	name=$(basename "$bin")
	tmp=$(mktemp -d "/tmp/sqledge-$name.XXXXXX") || return 1
	mkdir -p "$tmp/corpus" "$tmp/artifacts"
	for corpus in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}" ""; do
		[ -z "$corpus" ] || [ -d "$corpus" ] && break
	done
	if [ -n "$corpus" ]; then
		cp -R "$corpus/." "$tmp/corpus/"
		echo "corpus: $corpus ($(find "$tmp/corpus" -type f | wc -l) inputs)"
	else
		echo "no tests/fuzz/corpus/$name or tests/fuzz/corpus/${name#fuzz_}: empty corpus"
	fi
	"$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/fuzz.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		grep -E '^(stat::|Done|INFO: (Seed|Loaded))' "$tmp/fuzz.log" | tail -n 12
		rm -rf "$tmp"
		return 0
	fi
	tail -n 60 "$tmp/fuzz.log"
	mkdir -p build-fuzz/artifacts
	cp -R "$tmp/artifacts/." build-fuzz/artifacts/ 2>/dev/null
	echo "$name failed (exit $rc); reproducer(s) in build-fuzz/artifacts/, full log in $tmp/fuzz.log"
	return 1
}

stage_format() {
	local files=()
	shopt -s nullglob
	files=(src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c)
	shopt -u nullglob
	clang-format --version
	clang-format --dry-run -Werror "${files[@]}"
}

stage_whitespace() {
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		echo "not a git work tree: skipped"
		return 0
	fi
	# uncommitted changes, then everything committed (a fresh clone has no diff of its own)
	git diff --check HEAD &&
		git diff --check "$(git hash-object -t tree /dev/null)" HEAD
}

stage_man() {
	mandoc -Tlint -Wwarning man/*
}

# the node-postgres check's modules, from the committed package-lock.json, when node_modules is
# missing or older than the lock file (npm's own node_modules/.package-lock.json marks a finished
# install); run as the invoking user, so the tree stays theirs
stage_node_modules() {
	local dir=tests/integration/clients
	if [ -f "$dir/node_modules/.package-lock.json" ] &&
		! [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		echo "$dir/node_modules is up to date with package-lock.json"
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "npm is not installed (scripts/install-deps.sh installs nodejs and npm)" >&2
		return 1
	fi
	npm ci --prefix "$dir" --no-audit --no-fund </dev/null
}

# run_pytest BUILD_DIR: the integration suite; adds pytest's own counts to the totals
run_pytest() {
	local build=$1 log rc line p f e
	log=$(mktemp /tmp/sqledge-pytest.XXXXXX) || return 1
	# shellcheck disable=SC2086 # SQLEDGE_PYTEST_ARGS is a list of words
	SQLEDGE_BUILD_DIR="$top/$build" timeout -k 30 2700 \
		"$python" -m pytest -v tests/integration ${SQLEDGE_PYTEST_ARGS:-} </dev/null 2>&1 |
		tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^=+ .*\b(passed|failed|error|errors|no tests ran)\b.* in [0-9.]+s' "$log" | tail -n 1)
	p=$(sed -n -E 's/.*[^0-9]([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -n -E 's/.*[^0-9]([0-9]+) failed.*/\1/p' <<<"$line")
	e=$(sed -n -E 's/.*[^0-9]([0-9]+) errors?.*/\1/p' <<<"$line")
	p=${p:-0} f=${f:-0} e=${e:-0}
	rm -f "$log"
	passed=$((passed + p))
	failed=$((failed + f + e))
	if [ $((f + e)) -gt 0 ]; then
		failures+=("integration ($build): $((f + e)) test(s)")
	elif [ "$rc" -ne 0 ]; then
		# no failed test counted but pytest failed: collection error, crash or timeout
		failed=$((failed + 1))
		failures+=("integration ($build): pytest exited $rc")
	fi
	printf -- '---- integration (%s): %s passed, %s failed, %s errors, pytest exit %s\n' \
		"$build" "$p" "$f" "$e" "$rc"
}

echo "sqledge test run: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -m), $nproc CPUs, user $(id -un)"

run_stage "install dependencies" scripts/install-deps.sh
run_stage "gcc build (-Werror) + unit tests" stage_gcc
run_stage "clang build (-Werror)" stage_clang
run_stage "ASan/UBSan build + unit tests" stage_asan
run_stage "fuzz build" stage_fuzz_build
for bin in build-fuzz/tests/fuzz/fuzz_*; do
	if [ -f "$bin" ] && [ -x "$bin" ]; then
		run_stage "fuzz $(basename "$bin") (${fuzz_seconds}s)" run_fuzzer "$bin"
	fi
done
run_stage "clang-format" stage_format
run_stage "git diff --check" stage_whitespace
run_stage "mandoc -Tlint" stage_man
run_stage "node modules for the driver checks" stage_node_modules

header "integration tests (gcc build)"
run_pytest build-gcc
if [ "${SQLEDGE_TEST_ASAN_INTEGRATION:-1}" = 1 ]; then
	header "integration tests (ASan/UBSan build)"
	UBSAN_OPTIONS=print_stacktrace=1 run_pytest build-asan
fi

header "summary ($((SECONDS - started))s)"
for f in "${failures[@]}"; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
