#!/bin/sh
# bench_spark.sh BUILD - issue 7's benchmark: decoding every .delta of a
# large generated HDFS-style Spark state next to `lz4 -d` on the same
# payloads (goal >= 0.5x), in MB/s of decompressed output.
#
# mkspark writes a Spark 3.5-shaped checkpoint (wordcount over Kafka,
# 200 shuffle partitions x 20 batches = 4,000 lz4-java LZ4Block deltas,
# ~200 MB of record streams) and, with --raw-out, the decompressed record
# streams of all deltas concatenated.  Outside the timing that file is
# compressed once with `lz4 -1 -B5` (64 KiB independent blocks, content
# checksum on, so `lz4 -d` also runs XXH32 over every byte, as lz4-java's
# per-block checksums make ckpt do).  Timed, best of 5 interleaved rounds,
# all files in the page cache:
#  - lz4 -d -c FILE.lz4 > /dev/null                     (the reference)
#  - spark_decode DIR: libckpt's LZ4Block decoder on every .delta
#    (open, header checks, LZ4 decode, masked XXH32), nothing else;
#  - spark_decode --records DIR: the same plus the record framing;
#  - ckpt verify --read-state DIR: the whole command, which also turns
#    every key and value UnsafeRow into JSON and parses offsets, commits
#    and the schema.
set -eu
BUILD=${1:-build}
TOP=${CKPT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CKPT="$TOP/$BUILD/ckpt"
TOOLS="$TOP/$BUILD/tools"
T=${BENCH_TMP:-$(mktemp -d)}

now() { date +%s.%N; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

# secs CMD...: wall-clock seconds of one run (output discarded)
secs() {
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }

d="$T/spark"
if [ ! -d "$d" ]; then
	"$TOOLS/mkspark" "$d" --batches 20 --partitions 200 \
		--keys-per-batch 190000 --key-space 2000000 --seed 7 \
		--raw-out "$T/spark.raw" >/dev/null
fi
lz4 -q -f -1 -B5 "$T/spark.raw" "$T/spark.lz4"
raw=$(wc -c < "$T/spark.raw")
stored=$(find "$d/state" -name '*.delta' -exec cat {} + | wc -c)
ndelta=$(find "$d/state" -name '*.delta' | wc -l)
mb=$(echo "scale=1; $raw / 1048576" | bc -l)

# the decoders must agree on what they decode before anything is timed
got=$("$TOOLS/spark_decode" --records "$d")
case "$got" in
*" $raw bytes "*) ;;
*) echo "spark_decode decoded '$got', expected $raw bytes" >&2; exit 1 ;;
esac
lz4 -d -c "$T/spark.lz4" | cmp -s - "$T/spark.raw" ||
	{ echo "lz4 round trip differs" >&2; exit 1; }
"$CKPT" verify --read-state "$d" >/dev/null

# rounds interleave the four so that load from elsewhere hits them alike
tl="" tb="" tr="" tv=""
for _ in 1 2 3 4 5; do
	tl=$(min "$tl" "$(secs lz4 -d -c "$T/spark.lz4")")
	tb=$(min "$tb" "$(secs "$TOOLS/spark_decode" "$d")")
	tr=$(min "$tr" "$(secs "$TOOLS/spark_decode" --records "$d")")
	tv=$(min "$tv" "$(secs "$CKPT" verify --read-state "$d")")
done
mbl=$(echo "scale=1; $raw / 1048576 / $tl" | bc -l)
mbb=$(echo "scale=1; $raw / 1048576 / $tb" | bc -l)
mbr=$(echo "scale=1; $raw / 1048576 / $tr" | bc -l)
mbv=$(echo "scale=1; $raw / 1048576 / $tv" | bc -l)
echo "state: $ndelta deltas, $(echo "scale=1; $stored / 1048576" | bc) MB stored, $mb MB decompressed, $(echo "$got" | sed 's/.* \([0-9]*\) records/\1/') records"
echo "lz4 -d, same payloads (64 KiB blocks): ${tl}s = $mbl MB/s"
echo "spark_decode (LZ4Block + xxh32):      ${tb}s = $mbb MB/s"
echo "spark_decode --records (+ framing):   ${tr}s = $mbr MB/s"
echo "ckpt verify --read-state (+ rows to JSON, logs): ${tv}s = $mbv MB/s"
echo "ratio spark_decode/lz4-d (decompressed MB/s): $(ratio "$mbb" "$mbl")x  (goal >= 0.5x)"
echo "ratio spark_decode --records/lz4-d: $(ratio "$mbr" "$mbl")x  (goal >= 0.5x)"
echo "ratio verify --read-state/lz4-d: $(ratio "$mbv" "$mbl")x  (goal >= 0.5x)"
