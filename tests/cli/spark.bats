#!/usr/bin/env bats
# spark.bats - ckpt ls / inspect / verify on the 30 real Spark
# checkpoints in $CKPT_SPARK_FIXTURES (../shared/fixtures/spark), checked
# against fixtures/spark/EXPECTED.json, and on damaged copies of them.
# Every test skips, saying why, when the fixtures are absent.

load helpers

FIX=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}
DOME=dome0luis0valentin--Etl-Kafka--checkpoint_dir

setup() {
	[[ -f $FIX/EXPECTED.json ]] ||
		skip "spark fixtures not found (set CKPT_SPARK_FIXTURES)"
}

# Copies fixture $1 to $BATS_TEST_TMPDIR/ck (writable).
copy_fixture() {
	cp -r "$FIX/$1" "$BATS_TEST_TMPDIR/ck"
	chmod -R u+w "$BATS_TEST_TMPDIR/ck"
}

@test "spark: ls --json matches EXPECTED.json for every fixture" {
	local d
	for d in "$FIX"/*/; do
		d=${d%/}
		run -0 --separate-stderr "$CKPT" --json ls "$d"
		printf '%s' "$output" > "$BATS_TEST_TMPDIR/ls.json"
		python3 - "$FIX/EXPECTED.json" "$(basename "$d")" \
			"$BATS_TEST_TMPDIR/ls.json" <<'PY' || fail "ls of $d"
import json, sys
exp = json.load(open(sys.argv[1]))[sys.argv[2]]["summary"]
got = json.load(open(sys.argv[3]))
bad = []
def check(name, want, have):
    if want != have:
        bad.append("%s: want %r, got %r" % (name, want, have))
check("format", "spark", got["format"])
check("restart_point", exp["restart_point"], got["restart_point"])
check("next_batch", exp["next_batch"], got["next_batch"])
check("state_version", exp["state_version"], got["state_version"])
ids = [b["id"] for b in got["batches"] if b["has_offsets"]]
want = exp["offsets"]
if want:
    lo, _, hi = want.partition("-")
    hi = hi or lo
    check("offsets", list(range(int(lo), int(hi) + 1)), ids)
check("operators", exp["stores"], len(got.get("operators", [])))
full = json.load(open(sys.argv[1]))[sys.argv[2]]
# the version estimate, with its reason; "4.1+" where EXPECTED says 4.x
# but itself lists the 4.1 checksum files as evidence
ver = full["spark_version"]
if not (got["version_estimate"] == "4.1+" and ver["estimate"] == "4.x" and
        any("4.1" in x for x in ver.get("other_evidence", []))):
    check("version_estimate", ver["estimate"], got["version_estimate"])
check("version_reason given", True, bool(got.get("version_reason")))
# sources and their offsets at the restart point (else the newest batch)
src = (full.get("structured") or {}).get("sources") or {}
want = src.get("at_restart_point") or src.get("at_latest_offsets") or []
def offs(lst):
    return [(x["type"], x.get("value", x.get("partitions"))) for x in lst]
check("sources", offs(want), offs(got.get("sources") or []))
# live keys at the restart state version, per operator store
state = (full.get("structured") or {}).get("state") or {}
for op, o in state.items():
    for sn, st in o["stores"].items():
        name = op if sn == "default" else op + "/" + sn
        have = [x["keys"] for x in got["operators"] if x["name"] == name]
        check("keys of " + name, [st["at_target"]["live_keys"]], have)
        have = [x["num_partitions"] for x in got["operators"]
                if x["name"] == name]
        # with nothing committed (fixture 18), the dirs a crashed batch
        # 0 left are sparse: ckpt counts up to the highest id
        if not (st.get("restart_state_version") == 0 and have and
                have[0] >= st["partitions"]):
            check("partitions of " + name, [st["partitions"]], have)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
	done
}

@test "spark: verify --read-state passes every fixture (leftovers are warnings)" {
	local d
	for d in "$FIX"/*/; do
		run --separate-stderr "$CKPT" verify --read-state "${d%/}"
		[[ $status -eq 0 ]] ||
			fail "verify $d: exit $status: $output $stderr"
	done
}

@test "spark: inspect --json decodes every fixture's state" {
	local d
	for d in "$FIX"/*/; do
		run -0 --separate-stderr "$CKPT" --json inspect "${d%/}"
		printf '%s' "$output" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
			fail "inspect $d printed invalid JSON"
	done
}

@test "spark: inspect shows decoded rows through the schema file" {
	run -0 --separate-stderr "$CKPT" inspect --op 0 -p 1 -n 0 \
		"$FIX/USTriett--Streamming-Processing-PySpark--checkpoint"
	assert_output --partial '2015-11-30T21:40:00Z'
	assert_output --partial '"headquarters":"none"'
}

@test "spark: Spark 2.0 Java-serialized offsets are decoded" {
	run -0 --separate-stderr "$CKPT" inspect --batch 3 \
		"$FIX/Peter-32--HelloSpark--checkpoint"
	assert_output --partial '"format": "java-serialized"'
	assert_output --partial '"value": 3'
}

@test "spark: nested checkpoints are reported" {
	run -0 --separate-stderr "$CKPT" verify \
		"$FIX/Mrblue00--BD_Scala_Kafka_Spark_project--checkpoint"
	assert_output --partial 'QueryQueue2'
	assert_output --partial 'nested checkpoint'
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/Mrblue00--BD_Scala_Kafka_Spark_project--checkpoint"
	assert_output --partial 'format:        structured streaming + nested: QueryQueue2, QueryQueue3'
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/Mrblue00--BD_Scala_Kafka_Spark_project--checkpoint/QueryQueue2"
	assert_output --partial 'restart point: batch 8'
}

@test "spark: a flipped byte in a .delta is exit 3 naming the file" {
	copy_fixture "$DOME"
	flip_byte "$BATS_TEST_TMPDIR/ck/state/0/2/9.delta" 30
	run -3 --separate-stderr "$CKPT" verify --read-state \
		"$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'state/0/2/9.delta'
}

@test "spark: a truncated offsets file is exit 3 naming the file" {
	copy_fixture "$DOME"
	truncate -s 20 "$BATS_TEST_TMPDIR/ck/offsets/19"
	run -3 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'offsets/19'
}

@test "spark: a deleted delta the restart point needs is exit 3 naming it" {
	copy_fixture "$DOME"
	rm "$BATS_TEST_TMPDIR/ck/state/0/2/19.delta"
	run -3 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'state/0/2/19.delta'
	assert_output --partial 'missing'
}

@test "spark: a partial uncommitted batch is only a warning" {
	copy_fixture "Cloud-Computing-Spring-2025--ride-sharing-analytics-spark-streaming-BhanuThanniru--checkpoint_chk_task2"
	run -0 --separate-stderr "$CKPT" verify --read-state \
		"$BATS_TEST_TMPDIR/ck"
	[[ "$output$stderr" == *"uncommitted"* ]] ||
		fail "no warning about the uncommitted batch"
}

@test "spark: prune --dry-run gives reasons and changes nothing" {
	copy_fixture "$DOME"
	local before
	before=$(find "$BATS_TEST_TMPDIR/ck" -type f | wc -l)
	run -0 --separate-stderr "$CKPT" prune --dry-run --keep-last 1 \
		"$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'would remove commits/0'
	assert_output --partial 'older than the oldest batch kept (19)'
	assert_output --partial 'state/0/3/9.delta'
	[[ $(find "$BATS_TEST_TMPDIR/ck" -type f | wc -l) -eq $before ]]
}

@test "spark: prune --keep-last 1 leaves a checkpoint Spark restarts from" {
	copy_fixture "$DOME"
	run -0 --separate-stderr "$CKPT" prune --keep-last 1 \
		"$BATS_TEST_TMPDIR/ck"
	run -0 --separate-stderr "$CKPT" verify --read-state \
		"$BATS_TEST_TMPDIR/ck"
	assert_file_exists "$BATS_TEST_TMPDIR/ck/state/0/0/18.snapshot"
	assert_file_exists "$BATS_TEST_TMPDIR/ck/offsets/19"
	assert_file_not_exists "$BATS_TEST_TMPDIR/ck/state/0/0/17.delta"
	run -0 --separate-stderr "$CKPT" --json ls "$BATS_TEST_TMPDIR/ck"
	assert_output --partial '"restart_point": 19'
}

@test "spark: a leaked temp sidecar names the file it still verifies" {
	run -0 --separate-stderr "$CKPT" verify \
		"$FIX/Peter-32--HelloSpark--checkpoint"
	[[ "$output$stderr" == *"it verifies 'offsets/3'"* ]] ||
		fail "no match for offsets/..ec659ee5-...tmp.crc"
	[[ "$output$stderr" == *"it verifies 'sources/0/0'"* ]] ||
		fail "no match for sources/0/..d9b06ff6-...tmp.crc"
}

@test "spark: a damaged non-empty sidecar is an error, an empty one a warning" {
	copy_fixture "spookyTanya--pyspark-hw--checkpoint"
	printf 'XXX' | dd of="$BATS_TEST_TMPDIR/ck/offsets/.0.crc" bs=1 \
		conv=notrunc 2>/dev/null
	run -3 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'error: offsets/.0.crc'
	assert_output --partial 'bad magic'
	# section 10 item 3: an empty sidecar is a crashed write's
	cp "$FIX/spookyTanya--pyspark-hw--checkpoint/offsets/.0.crc" \
		"$BATS_TEST_TMPDIR/ck/offsets/.0.crc"
	: > "$BATS_TEST_TMPDIR/ck/commits/.0.crc"
	run -0 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/ck"
	[[ "$output$stderr" == *"warning: commits/.0.crc: unverifiable"* ]] ||
		fail "no warning for the empty sidecar: $output $stderr"
}

@test "spark: ls lists the uncommitted newest offsets as replayed" {
	run -0 --separate-stderr "$CKPT" ls "$FIX/$DOME"
	assert_output --regexp 'uncommitted +offsets/20 .*batch 20 has no commit: recovery replays it'
	run -0 --separate-stderr "$CKPT" --json ls "$FIX/$DOME"
	run -0 jq -c '[.leftovers[] | select(.path == "offsets/20") |
		.role, .batch, .replayed]' <<<"$output"
	assert_output '["uncommitted",20,true]'
}

@test "spark: ls names the batch of an uncommitted state version" {
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/USTriett--Streamming-Processing-PySpark--checkpoint"
	assert_output --partial 'state/0/0/4.delta'
	assert_output --partial 'state version 4 of batch 3, which has no commit: recovery replays it'
	refute_output --partial 'batch 4 has no commit'
}

@test "spark: a damaged uncommitted offsets file is still an error" {
	copy_fixture "$DOME"
	truncate -s 10 "$BATS_TEST_TMPDIR/ck/offsets/20"
	run -3 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/ck"
	assert_output --partial 'offsets/20'
}

@test "spark: ls -l counts keys per partition, '?' past the read budget" {
	run -0 --separate-stderr "$CKPT" --json ls -l "$FIX/$DOME"
	run -0 jq -c '[.operators[0].keys, [.operators[0].partitions[].keys]]' \
		<<<"$output"
	assert_output '[3,[0,1,1,1]]'
	# a partition with more than 4 MiB of state files is not read
	local mk=${MKSPARK:-$(dirname "$CKPT")/tools/mkspark}
	[[ -x $mk ]] || fail "mkspark not built: $mk (run make)"
	"$mk" "$BATS_TEST_TMPDIR/big" --batches 3 --partitions 2 \
		--keys-per-batch 200000 --key-space 1000000 >/dev/null
	run -0 --separate-stderr "$CKPT" --json ls -l "$BATS_TEST_TMPDIR/big"
	run -0 jq -c '[.operators[0].keys, [.operators[0].partitions[].keys]]' \
		<<<"$output"
	assert_output '[null,[null,null]]'
	"$mk" "$BATS_TEST_TMPDIR/small" --batches 3 --partitions 2 \
		--keys-per-batch 20 --key-space 20 >/dev/null
	run -0 --separate-stderr "$CKPT" --json ls -l "$BATS_TEST_TMPDIR/small"
	run -0 jq -c '.operators[0].keys' <<<"$output"
	assert_output '20'
}

@test "spark: continuous processing: epochs, Kafka offsets per partition" {
	local f="$FIX/alexsni--khols-spark-job--checkpoint"
	run -0 --separate-stderr "$CKPT" ls -a "$f"
	assert_line 'format:        structured streaming (continuous: batches are epochs)'
	assert_line --partial 'restart point: batch 276004 (C == L'
	assert_output --regexp '275905 +yes'
	run -0 --separate-stderr "$CKPT" --json ls "$f"
	run -0 jq -c '[(.batches | length), .batches[0].id, .batches[-1].id]' \
		<<<"$output"
	assert_output '[100,275905,276004]'
	run -0 --separate-stderr "$CKPT" --json inspect --batch 276004 "$f"
	assert_output --partial '"khols_source_topic": {'
	assert_output --partial '"0": 97288'
}

@test "spark: ls shows the sources' offsets at the restart point" {
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/MLSaj--BlogSimilaritySpark--checkpoint"
	assert_line 'SOURCES at batch 15'
	assert_line --regexp '^  0 +kafka +eventTopic: 1=3 0=4$'
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/Macrometacorp--macrometa-connector-databricks--checkpoint"
	assert_line --regexp '^  0 +pulsar +\{"ledgerId":1482,"entryId":631,"partitionIndex":-1\}$'
	run -0 --separate-stderr "$CKPT" ls "$FIX/Peter-32--HelloSpark--checkpoint"
	assert_line 'SOURCES at batch 3'
	assert_line --regexp '^  0 +file +logOffset 3$'
}

@test "spark: ls shows the retention window (minBatchesToRetain)" {
	run -0 --separate-stderr "$CKPT" ls \
		"$FIX/ISakhanda--earthquake-prediction--checkpoint"
	assert_line "retention:     100 batches (minBatchesToRetain, Spark's default): Spark keeps batch 484 on, oldest present 483"
	run -0 --separate-stderr "$CKPT" --json ls \
		"$FIX/Macrometacorp--macrometa-connector-databricks--checkpoint"
	run -0 jq -c .retention <<<"$output"
	assert_output '{"min_batches_to_retain":100,"from":"default","window_first":35,"oldest_batch":35}'
}

@test "spark: ls -l partition key counts add up to the operator's" {
	local d
	for d in "$FIX"/*/; do
		run -0 --separate-stderr "$CKPT" --json ls -l "${d%/}"
		run -0 jq -r '.operators[] | select(.keys != null) |
			select(.keys != ([.partitions[].keys] | add // 0)) |
			.name' <<<"$output"
		[[ -z $output ]] || fail "$d: partition keys differ for $output"
	done
}
