#!/bin/sh
# bench_ops.sh BUILD - issue 6's benchmarks:
#  1. `ckpt diff --stat` of two 1M-key checkpoints differing in 1 % of
#     keys: time and peak RSS, next to GNU diff(1) of the same content
#     as sorted text;
#  2. `ckpt prune --keep-last 100` on a 10,000-batch directory: time and
#     peak RSS, next to rm(1) of the same files.
set -eu
BUILD=${1:-build}
TOP=${CKPT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CKPT="$TOP/$BUILD/ckpt"
TOOLS="$TOP/$BUILD/tools"
T=${BENCH_TMP:-$(mktemp -d)}

ratio() { echo "scale=2; $1 / $2" | bc -l; }
# measure OUT CMD...: runs CMD under /usr/bin/time -v; sets SECS and KB
measure() {
	out=$1
	shift
	/usr/bin/time -v "$@" > "$out" 2> "$T/time.txt" || true
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":");
		s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$T/time.txt")
	KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$T/time.txt")
}

# 1. diff
pair="$T/pair"
if [ ! -d "$pair/A" ]; then
	mkdir -p "$pair"
	"$TOOLS/ops_pair" "$pair" --keys 1000000 --pct 1
fi
measure "$T/diff.out" "$CKPT" diff --stat "$pair/A" "$pair/B"
ds=$SECS; dk=$KB
tail -1 "$T/diff.out"
measure "$T/gnudiff.out" diff "$pair/A.txt" "$pair/B.txt"
gs=$SECS; gk=$KB
echo "ckpt diff --stat, 2 x 1M keys, 1% differ: ${ds}s, peak RSS ${dk} KiB"
echo "GNU diff, same content as text:          ${gs}s, peak RSS ${gk} KiB"
echo "ratio ckpt diff/GNU diff: time $(ratio "$ds" "$gs")x, RSS $(ratio "$dk" "$gk")x"

# 2. prune on 10,000 batches
many="$T/prune-many"
rm -rf "$many" "$T/prune-ref"
"$TOOLS/mkckpt" "$many" --batches 10000 --keys 20 --partitions 2 \
	--state-every 100 --seed 3 >/dev/null
cp -r "$many" "$T/prune-ref"
"$CKPT" prune --keep-last 100 --dry-run --json "$T/prune-ref" |
	jq -r '.removed[].path' > "$T/prune-list"
n=$(wc -l < "$T/prune-list")
sync
measure "$T/prune.out" "$CKPT" prune --keep-last 100 "$many"
ps=$SECS; pk=$KB
cat "$T/prune.out"
sync
measure "$T/rm.out" sh -c 'cd "$1" && xargs rm -f < "$2"' sh "$T/prune-ref" "$T/prune-list"
rs=$SECS; rk=$KB
echo "ckpt prune --keep-last 100, 10,000 batches ($n files): ${ps}s, peak RSS ${pk} KiB"
echo "xargs rm -f, same files:                           ${rs}s, peak RSS ${rk} KiB"
echo "ratio prune/rm: time $(ratio "$ps" "$rs")x"
"$CKPT" verify "$many" | tail -1
