#!/bin/sh
# stress.sh BUILD - `make stress`: the long restore test.
#
# Runs `ckpt restore-test` over the three jobs with at least 1,000
# random kills in all, then three times (three seeds, so three drawn
# occurrences) every crash point, every crash point in power-loss mode
# and every I/O fault point, and prints the counts, the divergences and
# the time.  Exits 3 on any divergence, 1 on a harness
# error.  CKPT_STRESS_SEED pins the seed (default: from the clock, so
# that each run explores new kill times); CKPT_STRESS_KILLS the kills
# per job (default 340); CKPT_STRESS_JOBS the cases run at once.
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in
/*) CKPT=$BUILD/ckpt ;;
*) CKPT=$TOP/$BUILD/ckpt ;;
esac
[ -x "$CKPT" ] || { echo "stress: no ckpt binary at $CKPT (run make)" >&2; exit 1; }

SEED=${CKPT_STRESS_SEED:-$(date +%s)}
KILLS=${CKPT_STRESS_KILLS:-340}
JOBS=${CKPT_STRESS_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-stress-XXXXXX")
# The runs go to tmpfs unless TMPDIR is set: a SIGKILL loses nothing the
# page cache holds, and power loss is modelled by the store's journal,
# so only the speed differs.
if [ -z "${TMPDIR-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	RUNS=$(mktemp -d /dev/shm/ckpt-stress-XXXXXX)
else
	RUNS=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-stress-runs-XXXXXX")
fi
START=$(date +%s)
status=0

echo "stress: seed $SEED, $KILLS kills per job, -j $JOBS, runs in $RUNS"

# run NAME ARGS... : one restore-test, its TAP report in $OUT/NAME.tap
run() {
	name=$1
	shift
	echo "== $name: ckpt restore-test $*"
	TMPDIR=$RUNS "$CKPT" restore-test -j "$JOBS" --format tap "$@" \
		> "$OUT/$name.tap" 2> "$OUT/$name.err"
	rc=$?
	grep -E '^# [0-9]+ cases:' "$OUT/$name.tap" || cat "$OUT/$name.err"
	grep -E '^not ok|^# (reproduce|kept):' "$OUT/$name.tap"
	if [ "$rc" -eq 3 ]; then
		status=3
	elif [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
		status=1
	fi
}

run kills --job all --kills "$KILLS" --seed "$SEED"
# every point and fault three times, at occurrences drawn from 3 seeds
for i in 0 1 2; do
	s=$((SEED + i))
	run crash-points-$i --job all --crash-points all --seed $s
	run power-loss-$i --job all --crash-points all --power-loss --seed $s
	run io-faults-$i --job all --io-faults --seed $s
done

# Totals over the reports.
cat "$OUT"/*.tap | awk -v secs=$(( $(date +%s) - START )) '
/^# [0-9]+ cases:/ {
	cases += $2
	for (i = 1; i <= NF; i++) {
		v = $i; sub(/[,;]$/, "", v)
		if ($(i + 1) ~ /^passed/) passed += v
		if ($(i + 1) ~ /^failed/) failed += v
		if ($(i + 1) ~ /^skipped/) skipped += v
		if ($(i + 1) ~ /^kills/) kills += v
		if ($(i + 1) == "crash" && $(i + 2) ~ /^points/) points += v
		if ($(i + 1) == "I/O") faults += v
		if ($(i + 1) ~ /^divergences/) div += v
	}
}
END {
	printf "stress: %d cases, %d kills, %d crash points fired, %d I/O faults injected, %d skipped, %d divergences, %d s\n",
		cases, kills, points, faults, skipped, div, secs
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
}'
if [ "$status" -eq 0 ]; then
	rm -rf "$OUT" "$RUNS"
else
	echo "stress: reports in $OUT, kept runs in $RUNS"
fi
exit $status
