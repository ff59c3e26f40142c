#!/usr/bin/env bats
# mkspark: the generator behind the Spark benchmark writes checkpoints our
# Spark reader accepts and decodes to the numbers the generator meant,
# with keys where Spark's partitioner puts them, and empty deltas byte
# for byte like a real Spark 3.x one.  This keeps the generator honest:
# its bytes come from liblz4/xxhash directly, not from ckpt's codecs.

load helpers

MKSPARK=${MKSPARK:-$(dirname "$CKPT")/tools/mkspark}
SPARK_DECODE=${SPARK_DECODE:-$(dirname "$CKPT")/tools/spark_decode}
FIX=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}

mkspark() {
	[[ -x $MKSPARK ]] || fail "mkspark not built: $MKSPARK (run make)"
	"$MKSPARK" "$@" || fail "mkspark $* failed"
}

# Spark's partition for a one-string-column key:
# pmod(Murmur3_x86_32.hashUnsafeBytes(utf8, seed 42), P), old tail rule.
spark_partitions() {	# P; reads "partition<TAB>word" lines, prints misses
	python3 -c '
import struct, sys
M = 0xffffffff
def rotl(x, r): return ((x << r) | (x >> (32 - r))) & M
def k1(k): return (rotl((k * 0xcc9e2d51) & M, 15) * 0x1b873593) & M
def h1(h, k): return (rotl(h ^ k, 13) * 5 + 0xe6546b64) & M
def murmur(b, h):
    n = len(b) // 4 * 4
    for i in range(0, n, 4):
        h = h1(h, k1(struct.unpack("<I", b[i:i + 4])[0]))
    for c in b[n:]:
        h = h1(h, k1((c - 256 if c > 127 else c) & M))
    h ^= len(b); h ^= h >> 16; h = (h * 0x85ebca6b) & M
    h ^= h >> 13; h = (h * 0xc2b2ae35) & M; h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h
P = int(sys.argv[1])
n = 0
for line in sys.stdin:
    p, w = line.rstrip("\n").split("\t", 1)
    n += 1
    if murmur(w.encode(), 42) % P != int(p):
        print("misplaced", p, w)
print("checked", n)
' "$1"
}

@test "mkspark: ls and verify --read-state accept a generated checkpoint" {
	mkspark "$BATS_TEST_TMPDIR/s" --batches 6 --partitions 4 \
		--keys-per-batch 300 --seed 3 >/dev/null
	run -0 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/s"
	assert_line --regexp '^format: +structured streaming$'
	assert_line --regexp '^restart point: +batch 5 '
	assert_line --regexp '^0 +aggregation +4 +1\.\.6 +0 +24 '
	run -0 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/s"
	assert_output --regexp ': 0 errors, 0 warnings$'
}

@test "mkspark: inspect --json decodes the one word's count" {
	# one word drawn once per batch: count 5 after 5 batches; word 0 of
	# seed 1 is 0x85ebca6b spelled in syllables, low 6 bits first
	mkspark "$BATS_TEST_TMPDIR/s" --batches 5 --partitions 4 \
		--keys-per-batch 1 --key-space 1 --seed 1 >/dev/null
	run -0 --separate-stderr "$CKPT" inspect --json "$BATS_TEST_TMPDIR/s"
	[ "$(jq -c '.operators[0].records' <<<"$output")" = \
		'[{"partition":2,"key":{"word":"repotanpalsami"},"value":{"count":5}}]' ]
	[ "$(jq -r '.operators[0].type' <<<"$output")" = aggregation ]
	[ "$(jq -c '.batch.offsets.sources[0].partitions' <<<"$output")" = \
		'{"words":{"1":2,"0":3}}' ]
}

@test "mkspark: counts add up to the Kafka offsets, keys sit in Spark's partitions" {
	local j total sum
	mkspark "$BATS_TEST_TMPDIR/s" --batches 8 --partitions 7 \
		--keys-per-batch 400 --key-space 1000 --seed 11 >/dev/null
	run -0 --separate-stderr "$CKPT" inspect --json "$BATS_TEST_TMPDIR/s"
	j=$output
	total=$(jq '[.batch.offsets.sources[0].partitions.words[]] | add' <<<"$j")
	sum=$(jq '[.operators[0].records[].value.count] | add' <<<"$j")
	[ "$total" -gt 3200 ]
	[ "$sum" = "$total" ]
	run -0 spark_partitions 7 < <(jq -r '.operators[0].records[] |
		"\(.partition)\t\(.key.word)"' <<<"$j")
	refute_output --partial misplaced
	assert_output --regexp '^checked [0-9]{3,}$'
}

@test "mkspark: --raw-out holds exactly the decoded record streams" {
	local size
	run -0 "$MKSPARK" "$BATS_TEST_TMPDIR/s" --batches 3 --partitions 5 \
		--keys-per-batch 2000 --seed 5 --raw-out "$BATS_TEST_TMPDIR/raw"
	assert_output "15 deltas, 6000 records, $(tail -n 1 \
		"$BATS_TEST_TMPDIR/s/offsets/2" | jq '[.words[]] | add') kafka records"
	size=$(stat -c %s "$BATS_TEST_TMPDIR/raw")
	run -0 "$SPARK_DECODE" --records "$BATS_TEST_TMPDIR/s"
	assert_output --regexp "^15 files [0-9]+ blocks $size bytes 6000 records$"
	run -0 "$SPARK_DECODE" "$BATS_TEST_TMPDIR/s"
	assert_output --regexp "^15 files [0-9]+ blocks $size bytes$"
}

@test "mkspark: a flipped payload byte fails verify --read-state (3)" {
	local f
	mkspark "$BATS_TEST_TMPDIR/s" --batches 2 --partitions 2 \
		--keys-per-batch 500 --seed 9 >/dev/null
	f=state/0/1/2.delta
	flip_byte "$BATS_TEST_TMPDIR/s/$f" 100
	run -3 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/s"
	assert_line --regexp "^error: $f: "
	run -1 "$SPARK_DECODE" "$BATS_TEST_TMPDIR/s"
}

@test "mkspark: an empty delta is byte-identical to one Spark 3.x wrote" {
	local real=$FIX/dome0luis0valentin--Etl-Kafka--checkpoint_dir/state/0/0/5.delta
	[[ -f $real ]] || skip "Spark fixtures not found in '$FIX' (set CKPT_SPARK_FIXTURES)"
	mkspark "$BATS_TEST_TMPDIR/s" --batches 1 --partitions 4 \
		--keys-per-batch 1 --key-space 1 --seed 1 >/dev/null
	# the one word is in partition 2; the others hold only the end marker
	cmp "$real" "$BATS_TEST_TMPDIR/s/state/0/0/1.delta"
	cmp "$real" "$BATS_TEST_TMPDIR/s/state/0/3/1.delta"
	! cmp -s "$real" "$BATS_TEST_TMPDIR/s/state/0/2/1.delta"
}
