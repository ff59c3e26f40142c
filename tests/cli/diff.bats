#!/usr/bin/env bats
# ckpt diff: two checkpoints or two batches of one; metadata, offsets and
# state per key; --stat, --op, --key, --limit, --ignore-partitions,
# --json; exit 0 identical, 3 different, 10 not found, 2 usage.

load helpers

setup() {
	CK=$BATS_TEST_TMPDIR/ck
	[[ $BATS_TEST_DESCRIPTION == *--help ]] ||
		mkckpt "$CK" --batches 6 --keys 60 --partitions 3 --seed 5 \
			--format-version 2 --state-every 2 --snapshot-every 2
}

@test "diff: --help" {
	run -0 --separate-stderr "$CKPT" diff --help
	assert_golden diff help
}

@test "diff: a checkpoint compared with itself is identical (0, no output)" {
	run -0 --separate-stderr "$CKPT" diff "$CK" "$CK"
	assert_output ""
	run -0 --separate-stderr "$CKPT" diff --json "$CK" "$CK"
	[ "$(jq -r '"\(.identical) \(.metadata|length) \(.offsets|length) \(.state|length) \(.stats.keys_a) \(.stats.keys_b)"' <<<"$output")" = "true 0 0 0 $(jq .stats.keys_b <<<"$output") $(jq .stats.keys_a <<<"$output")" ]
	[ "$(jq '.stats.keys_a > 0' <<<"$output")" = true ]
}

@test "diff: a copy compares identical, batch by batch" {
	cp -r "$CK" "$BATS_TEST_TMPDIR/copy"
	for b in 1 3 5; do
		run -0 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/copy" --from $b --to $b
		assert_output ""
	done
}

@test "diff: PATH alone compares its two newest committed batches (3)" {
	run -3 --separate-stderr "$CKPT" diff "$CK"
	assert_line "offsets:"
	assert_line --regexp '^@@ counts partition [0-2] @@$'
	assert_line --regexp '^M "key-[0-9]+" [0-9]+ -> [0-9]+$'
	run -3 --separate-stderr "$CKPT" diff --json "$CK"
	[ "$(jq -r '"\(.from_batch) \(.to_batch) \(.identical)"' <<<"$output")" = "4 5 false" ]
}

@test "diff: --from/--to text output" {
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 3 --op counts --limit 4
	assert_golden diff from-to
}

@test "diff: --from/--to --json" {
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 3 --json --limit 3
	assert_golden diff from-to-json
	[ "$(jq '[.state[].keys|length]|add' <<<"$output")" -le 3 ]
	[ "$(jq .stats.truncated <<<"$output")" = true ]
	[ "$(jq '.stats.keys_modified + .stats.keys_added + .stats.keys_removed == ([.state[]|.added+.removed+.modified]|add)' <<<"$output")" = true ]
}

@test "diff: --stat prints one line per differing partition and a total" {
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 5 --stat
	assert_line --regexp '^counts/[0-2]: \+[0-9]+ -[0-9]+ M[0-9]+$'
	assert_line --regexp '^[0-9]+ key\(s\) added, [0-9]+ removed, [0-9]+ modified in [0-9]+ of [0-9]+ partition\(s\) \(\+.*, -.*\)$'
	refute_line --regexp '^M '
}

@test "diff: --key keeps only that key, given as a string or JSON" {
	local k
	k=$("$CKPT" diff "$CK" --from 1 --to 5 --json | jq -r '[.state[].keys[]|select(.change=="M")][0].key')
	[ -n "$k" ]
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 5 --key "$k" --op counts
	[ "$(grep -c '^[-+M] "' <<<"$output")" -eq 1 ]
	assert_line --regexp "^M \"$k\" "
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 5 --key "\"$k\"" --op counts --json
	[ "$(jq '[.state[].keys[]]|length' <<<"$output")" -eq 1 ]
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 5 --key no-such-key --op counts
	refute_line --regexp '^[-+M] "'
}

@test "diff: --limit shows N keys and says how many it hid" {
	run -3 --separate-stderr "$CKPT" diff "$CK" --from 1 --to 5 --limit 2
	[ "$(grep -c '^[-+M] "' <<<"$output")" -eq 2 ]
	assert_line --regexp '^\.\.\. [0-9]+ more key difference\(s\) not shown \(--limit\)$'
}

@test "diff: a repartitioned copy differs per partition but not per key" {
	"$CKPT" migrate "$CK" repartition --partitions 5 --to "$BATS_TEST_TMPDIR/r5" --execute >/dev/null
	run -3 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/r5" --stat
	assert_line --regexp '^counts/[0-4]: '
	run -3 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/r5" --ignore-partitions --json
	[ "$(jq -r '"\(.stats.keys_added) \(.stats.keys_removed) \(.stats.keys_modified) \(.state|length)"' <<<"$output")" = "0 0 0 0" ]
	# what differs is metadata only: the partition counts and history
	run -0 jq -r '.metadata[].field' <<<"$output"
	assert_line 'operators[0].partitions'
	assert_line 'history[0]'
}

@test "diff: metadata differences of two lineages come first" {
	mkckpt "$BATS_TEST_TMPDIR/other" --batches 6 --keys 60 --partitions 3 --seed 6 \
		--format-version 2 --state-every 2 --snapshot-every 2
	run -3 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/other" --limit 1
	[ "${lines[0]}" = "metadata:" ]
	assert_line --regexp '^M id "[0-9a-f]+" -> "[0-9a-f]+" \(lineage: not counted\)$'
}

@test "diff: lineage fields are shown but not counted: cp -a, a rerun and migrate copy compare identical (0)" {
	cp -a "$CK" "$BATS_TEST_TMPDIR/cpa"
	run -0 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/cpa"
	assert_output ""
	# the same job run twice on the same input: new id, new created_ms
	"$CKPT" run wordcount --checkpoint "$BATS_TEST_TMPDIR/r1" --generate --seed 3 --events 400 >/dev/null
	"$CKPT" run wordcount --checkpoint "$BATS_TEST_TMPDIR/r2" --generate --seed 3 --events 400 >/dev/null
	run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	assert_line --regexp '^M id "[0-9a-f]+" -> "[0-9a-f]+" \(lineage: not counted\)$'
	assert_line --regexp '^M created_ms [0-9]+ -> [0-9]+ \(lineage: not counted\)$'
	refute_line --regexp '^@@'
	run -0 --separate-stderr "$CKPT" diff --stat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	assert_line "metadata: 2 lineage field(s) differ (not counted)"
	run -0 --separate-stderr "$CKPT" diff --json "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	[ "$(jq -r '"\(.identical) \(.stats.metadata_fields) \(.stats.lineage_fields) \([.metadata[].counted]|unique)"' <<<"$output")" = 'true 0 2 [false]' ]
	# --all-metadata counts them
	run -3 --separate-stderr "$CKPT" diff --all-metadata "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	assert_line --regexp '^M id "[0-9a-f]+" -> "[0-9a-f]+"$'
	# a versioned copy: new lineage, same state
	"$CKPT" migrate "$BATS_TEST_TMPDIR/r1" copy --to "$BATS_TEST_TMPDIR/v2" --execute >/dev/null
	run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/v2"
	assert_line --regexp '^\+ history\[0\] .*"migration":"copy".* \(lineage: not counted\)$'
	run -3 --separate-stderr "$CKPT" diff --all-metadata --stat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/v2"
	assert_line "metadata: 3 field(s) differ"
	# a real change still counts: one key differs
	"$CKPT" run wordcount --checkpoint "$BATS_TEST_TMPDIR/r3" --generate --seed 4 --events 400 >/dev/null
	run -3 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r3"
}

@test "diff: errors: unknown operator (10), too few batches (10), bad usage (2)" {
	run -10 --separate-stderr "$CKPT" diff "$CK" "$CK" --op nosuch
	[[ $stderr == "ckpt diff: cannot diff operator 'nosuch': no such operator" ]]
	mkckpt "$BATS_TEST_TMPDIR/one" --batches 1 --keys 5 --partitions 1
	run -10 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/one"
	[[ $stderr == *"fewer than two committed batches"* ]]
	run -2 --separate-stderr "$CKPT" diff a b c
	run -2 --separate-stderr "$CKPT" diff
	run -2 --separate-stderr "$CKPT" diff "$CK" --limit -1
	run -10 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/missing"
	run -10 --separate-stderr "$CKPT" diff --json "$CK" "$BATS_TEST_TMPDIR/missing"
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
}

@test "diff: Spark: Kafka progress per topic-partition and join state per key" {
	local f=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}/chaithanyarlk--Apache-Spark-Streaming-Projects--checkpointStreamin
	[[ -d $f ]] || skip "Spark fixtures not found at $f"
	run -3 --separate-stderr "$CKPT" diff "$f"
	assert_line 'M sources[1].partitions.notif.0 94 -> 95'
	assert_line '@@ 0/right-keyToNumValues partition 0 @@'
	assert_line 'M {"field0":"1"} {"value":1} -> {"value":2}'
	run -3 --separate-stderr "$CKPT" diff "$f" --json
	[ "$(jq -r '"\(.from_version) \(.to_version) \(.stats.keys_added) \(.stats.keys_modified)"' <<<"$output")" = "$(jq -r .from_batch <<<"$output" | awk '{ print $1 + 1 }') $(jq -r .to_batch <<<"$output" | awk '{ print $1 + 1 }') 1 1" ]
	run -0 --separate-stderr "$CKPT" diff "$f" "$f"
	assert_output ""
}

@test "diff: one committed batch is compared with the batch planned after it" {
	local f=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}/ignaciogallegossanchez--KeepcodingKafkaSniffer--checkpoint
	[[ -d $f ]] || skip "Spark fixtures not found at $f"
	run -3 --separate-stderr "$CKPT" diff "$f" --json
	[ "$(jq -r '"\(.from_batch) \(.to_batch) \(.stats.keys_added + .stats.keys_removed + .stats.keys_modified)"' <<<"$output")" = "0 1 0" ]
	run -0 jq -r '.offsets[]|"\(.field) \(.old) \(.new)"' <<<"$output"
	assert_line 'sources[0].partitions.test.0 65 67'
}
