#!/bin/sh
# run.sh BUILD - every benchmark, each printed as a ratio against a
# reference tool measured in the same run.  No timed assertions: the
# figures are for people (and issue notes), not for pass/fail.
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export CKPT="$TOP/$BUILD/ckpt" CKPT_BUILD="$TOP/$BUILD" CKPT_TOP="$TOP"
export BENCH_TMP="${BENCH_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-XXXXXX")}"
trap 'rm -rf "$BENCH_TMP"' EXIT
echo "ckpt benchmarks ($(nproc) cores, $(uname -m)); scratch in $BENCH_TMP"
for b in "$TOP"/tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	echo
	echo "### $(basename "$b" .sh)"
	sh "$b" "$BUILD" || echo "($(basename "$b") failed: exit $?)"
done
