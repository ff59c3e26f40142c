#!/bin/sh
# bench_verify.sh BUILD - issue 3's benchmarks:
#  1. `ckpt verify --read-state` on a >= 200 MB native checkpoint next to
#     `zstd -t` on the same compressed block payloads (goal >= 0.8x);
#  2. `ckpt ls` and `ckpt ls -l` on a 10,000-batch directory next to a
#     plain readdir+stat loop over the same directory tree (goal <= 3x
#     each; warm cache, median of 3 timings of 5 runs), and, stricter,
#     next to one over offsets/ and commits/ only.
set -eu
BUILD=${1:-build}
TOP=${CKPT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CKPT="$TOP/$BUILD/ckpt"
TOOLS="$TOP/$BUILD/tools"
T=${BENCH_TMP:-$(mktemp -d)}

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

# 1. verify throughput
big="$T/big"
if [ ! -d "$big" ]; then
	"$TOOLS/mkckpt" "$big" --batches 4 --keys 2000000 --partitions 8 \
		--value-bytes 200 --format-version 1 --state-every 1 \
		--seed 7 >/dev/null
fi
state_bytes=$(du -sb "$big/state" | cut -f1)
[ "$state_bytes" -ge 200000000 ] || echo "warning: the checkpoint is only $state_bytes bytes (< 200 MB)"
"$TOOLS/native_frames" "$big" > "$T/frames.zst" 2>"$T/frames.n"
frames=$(cat "$T/frames.n")
t0=$(now); "$CKPT" verify --read-state "$big" >/dev/null; t1=$(now)
zstd -q -t "$T/frames.zst"; t2=$(now)
tv=$(secs "$t0" "$t1"); tz=$(secs "$t1" "$t2")
mbv=$(echo "scale=1; $state_bytes / 1048576 / $tv" | bc -l)
mbz=$(echo "scale=1; $frames / 1048576 / $tz" | bc -l)
echo "verify --read-state: $(echo "scale=1; $state_bytes/1048576" | bc) MB of state in ${tv}s = $mbv MB/s"
echo "zstd -t, same frames: $(echo "scale=1; $frames/1048576" | bc) MB in ${tz}s = $mbz MB/s"
echo "ratio verify/zstd-t (stored MB/s): $(ratio "$mbv" "$mbz")x  (goal >= 0.8x)"

# 2. ls on 10,000 batches
many="$T/many"
if [ ! -d "$many" ]; then
	"$TOOLS/mkckpt" "$many" --batches 10000 --keys 20 --partitions 2 \
		--state-every 1000 --seed 3 >/dev/null
fi
sync
# warm the cache; then per command the median of 3 timings of 5 runs
# each (one clock read per 5 runs: starting date(1) costs a few ms)
"$TOOLS/readdir_stat" "$many" >/dev/null
"$CKPT" ls -l "$many" >/dev/null
med() {
	for j in 1 2 3; do
		t0=$(now)
		for i in 1 2 3 4 5; do "$@" >/dev/null; done
		t1=$(now)
		echo "scale=4; $(secs "$t0" "$t1") / 5" | bc -l
	done | sort -n | sed -n 2p
}
tr=$(med "$TOOLS/readdir_stat" "$many")
tb=$(med "$TOOLS/readdir_stat" -b "$many")
tp=$(med "$CKPT" ls "$many")
tl=$(med "$CKPT" ls -l "$many")
nf=$("$TOOLS/readdir_stat" "$many")
echo "10,000 batches, $nf entries:"
echo "  readdir+stat loop over the whole tree: ${tr}s (offsets/ and commits/ only: ${tb}s)"
echo "  ckpt ls: ${tp}s, ckpt ls -l: ${tl}s"
echo "ratio ls/readdir+stat: $(ratio "$tp" "$tr")x, ls -l/readdir+stat: $(ratio "$tl" "$tr")x  (goal <= 3x)"
echo "  (against offsets/ and commits/ only: ls $(ratio "$tp" "$tb")x, ls -l $(ratio "$tl" "$tb")x;"
echo "   ls also adds up every file's size and finds leftovers, so it stats the whole tree)"
