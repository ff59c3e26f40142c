#!/bin/sh
# run-all.sh BUILD - run the unit tests and the bats suite against the
# binaries in BUILD, print each TAP stream, and end with the line
# "N passed, N failed" (exit non-zero on any failure).
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-check-XXXXXX")
trap 'rm -rf "$OUT"' EXIT
: "${CKPT_SPARK_FIXTURES:=$TOP/../shared/fixtures/spark}"
export CKPT_SPARK_FIXTURES
export CKPT="$TOP/$BUILD/ckpt"
export CKPT_BUILD="$TOP/$BUILD"
export CKPT_TOP="$TOP"

status=0
echo "== unit tests"
( cd "$TOP" && "$BUILD/unit/runner" ) > "$OUT/unit.tap" 2> "$OUT/unit.err" || status=1
cat "$OUT/unit.tap"; cat "$OUT/unit.err" >&2

echo "== cli tests (bats)"
JOBS=""
if bats --help 2>/dev/null | grep -q -- '--jobs' && command -v parallel >/dev/null 2>&1; then
	JOBS="--jobs 2"
fi
# shellcheck disable=SC2086
( cd "$TOP" && bats $JOBS --tap tests/cli ) > "$OUT/cli.tap" 2>&1 || status=1
cat "$OUT/cli.tap"

passed=0; failed=0; skipped=0
for tap in "$OUT/unit.tap" "$OUT/cli.tap"; do
	p=$(grep -c '^ok ' "$tap" || true)
	f=$(grep -c '^not ok ' "$tap" || true)
	s=$(grep -c '^ok .*# skip' "$tap" || true)
	# A runner that died mid-way (a sanitizer abort) leaves planned
	# tests unreported: each of them counts as failed.
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tap" | head -1)
	if [ -n "$plan" ] && [ $((p + f)) -lt "$plan" ]; then
		echo "$(basename "$tap" .tap): $((plan - p - f)) planned tests never reported (runner died)"
		f=$((plan - p))
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
