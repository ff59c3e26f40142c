#!/usr/bin/env bats
# ckpt prune: keep rules, what restoring a kept batch needs, leftovers,
# --dry-run with reasons, --list-kept, --json, the writer lock (11), and
# kills at every deletion that never lose the restart point.

load helpers

setup() {
	CK=$BATS_TEST_TMPDIR/ck
	[[ $BATS_TEST_DESCRIPTION == *--help ]] ||
		mkckpt "$CK" --batches 20 --keys 50 --partitions 2 --seed 7 \
			--format-version 2 --state-every 2 --snapshot-every 3
}

# A sorted listing of every file with its checksum.
tree_sum() {
	(cd "$1" && find . -type f ! -name lock -exec md5sum {} + | sort -k2)
}

# File sizes depend on the writer's encoding, not on prune: golden
# files hold <size> and <n> instead.
nosizes() {
	output=$(sed -E -e 's/[0-9.]+ (B|KiB|MiB|GiB)/<size>/g' \
		-e 's/"(bytes[a-z_]*)": [0-9]+/"\1": <n>/g' <<<"$output")
	mapfile -t lines <<<"$output"
}

restart_point() {
	"$CKPT" ls --json "$1" | jq -r .restart_point
}

@test "prune: --help" {
	run -0 --separate-stderr "$CKPT" prune --help
	assert_golden prune help
}

@test "prune: --dry-run lists each file with its reason and changes nothing" {
	local before
	before=$(tree_sum "$CK")
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 3 --dry-run
	nosizes
	assert_golden prune dry-run
	assert_line 'would remove commits/00000000000000000000 (<size>): batch 0 is older than the oldest batch kept (13)'
	assert_line --regexp '^would remove [0-9]+ file\(s\), '
	[ "$(tree_sum "$CK")" = "$before" ]
}

@test "prune: --keep-last keeps the snapshot chain the oldest kept batch needs" {
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 3 --list-kept --dry-run
	# batch 17 (the oldest of the newest 3) restores from its own state
	# checkpoint, a delta on the snapshot of batch 13
	assert_line --regexp '^keep batch 13 .*holds state that batch 17 restores from'
	assert_line --regexp '^keep batch 19 .*restart point'
	refute_line --regexp '^keep batch 12 '
}

@test "prune: the pruned directory verifies and restores the same state" {
	cp -r "$CK" "$BATS_TEST_TMPDIR/orig"
	# write-ahead-log segments are numbered by segment: the engine
	# releases them, prune keeps them
	mkdir "$CK/wal"
	echo seg > "$CK/wal/00000000000000000000"
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 3
	[ -e "$CK/wal/00000000000000000000" ]
	rm -r "$CK/wal"
	assert_output --regexp '^removed [0-9]+ file\(s\), .*kept 7 \(oldest 13, restart point 19\)$'
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
	[ "$(restart_point "$CK")" = 19 ]
	for b in 13 17 19; do
		run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/orig" "$CK" --from $b --to $b
	done
	[ ! -e "$CK/commits/00000000000000000012" ]
	[ ! -e "$CK/state/0/0/00000000000000000011.delta" ]
	# a second run has nothing left to do
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 3 --json
	[ "$(jq -r '"\(.files_removed) \(.batches_kept)"' <<<"$output")" = "0 7" ]
}

@test "prune: --json of a dry run" {
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 2 --keep-within 3s --dry-run --list-kept --json
	local json=$output
	nosizes
	assert_golden prune dry-run-json
	output=$json
	[ "$(jq -r '"\(.dry_run) \(.restart_point) \(.kept|length) \(.batches_kept)"' <<<"$output")" = "true 19 7 7" ]
	[ "$(jq '([.removed[].bytes]|add) == .bytes_freed' <<<"$output")" = true ]
	[ "$(jq -r '[.removed[]|select(.role=="commit")]|length' <<<"$output")" = 13 ]
}

@test "prune: --keep-within keeps batches within a duration of the newest" {
	# batches are one second apart: 5s keeps 14..19, batch 13 for state
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-within 5s --dry-run --list-kept
	assert_line --regexp '^keep batch 14 .*within 5s of the newest batch \(--keep-within\)'
	assert_line --regexp '^keep batch 13 .*holds state'
	refute_line --regexp '^keep batch 12 '
	run -2 --separate-stderr "$CKPT" prune "$CK" --keep-within soon
	[[ $stderr == *"bad --keep-within 'soon'"* ]]
}

@test "prune: without a rule only leftovers go" {
	local tmpf=$CK/state/0/0/.00000000000000000019.delta.ab12.tmp
	echo junk > "$tmpf"
	run -0 --separate-stderr "$CKPT" prune "$CK" --dry-run
	assert_line --regexp "^would remove state/0/0/\.00000000000000000019\.delta\.ab12\.tmp \(5 B\): temporary file left by an interrupted write$"
	assert_line --regexp '^would remove 1 file\(s\)'
	run -0 --separate-stderr "$CKPT" prune "$CK"
	[ ! -e "$tmpf" ]
	[ -e "$CK/commits/00000000000000000000" ]
}

@test "prune: an uncommitted batch after the restart point stays unless --discard-uncommitted" {
	rm -rf "$CK"
	mkckpt "$CK" --batches 6 --keys 20 --partitions 2 --seed 3 --uncommitted
	[ -e "$CK/offsets/00000000000000000006" ]
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 2 --list-kept
	assert_line --regexp '^keep batch 6 .*uncommitted, newer than the restart point'
	[ -e "$CK/offsets/00000000000000000006" ]
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 2 --discard-uncommitted
	[ ! -e "$CK/offsets/00000000000000000006" ]
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
	[ "$(restart_point "$CK")" = 5 ]
}

@test "prune: a running writer's lock makes it exit 11" {
	sleep 60 &
	local pid=$!
	printf '{"host":"%s","pid":%d,"since_ms":1,"what":"ckpt run wordcount"}\n' \
		"$(hostname)" "$pid" > "$CK/lock"
	run -11 --separate-stderr "$CKPT" prune "$CK" --keep-last 1
	kill "$pid"
	[[ $stderr == "ckpt prune: "*"locked by pid $pid"* ]]
	[ -e "$CK/commits/00000000000000000000" ]
	# a dry run does not need the lock
	run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 1 --dry-run
}

@test "prune: a running ckpt run holds the lock: prune and migrate exit 11, the job is undisturbed" {
	local in=$BATS_TEST_TMPDIR/in.txt job=$BATS_TEST_TMPDIR/job pid i
	seq 1 200 | sed 's/^/alpha beta /' > "$in"
	"$CKPT" run wordcount --checkpoint "$job" --input "$in" --follow \
		--idle-flush 50ms >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[[ -s $job/lock ]] && [[ -n $(ls "$job/commits" 2>/dev/null) ]] && break
		sleep 0.1
	done
	[[ -s $job/lock ]] || { kill "$pid"; fail "ckpt run made no lock"; }
	run -11 --separate-stderr "$CKPT" prune "$job" --keep-last 1
	[[ $stderr == "ckpt prune: "*"locked by pid $pid"* ]] || { kill "$pid"; fail "$stderr"; }
	run -11 --separate-stderr "$CKPT" migrate "$job" format --to-version 1 --execute
	# a dry run reads without the lock
	run -0 --separate-stderr "$CKPT" prune "$job" --keep-last 1 --dry-run
	kill -0 "$pid" || fail "the job died"
	kill -TERM "$pid"
	wait "$pid" || true
	# stopped, the lock is free: prune runs and the result verifies
	run -0 --separate-stderr "$CKPT" prune "$job" --keep-last 1
	run -0 --separate-stderr "$CKPT" verify --read-state "$job"
}

@test "prune: killed at any deletion, the restart point survives and a rerun finishes" {
	local n k
	cp -r "$CK" "$BATS_TEST_TMPDIR/orig"
	cp -r "$CK" "$BATS_TEST_TMPDIR/clean"
	"$CKPT" prune "$BATS_TEST_TMPDIR/clean" --keep-last 2 >/dev/null
	n=$("$CKPT" prune "$CK" --keep-last 2 --dry-run --json | jq .files_removed)
	[ "$n" -gt 50 ]
	for k in 1 2 3 $((n / 4)) $((n / 2)) $((n - 1)) "$n"; do
		rm -rf "$CK"
		cp -r "$BATS_TEST_TMPDIR/orig" "$CK"
		CKPT_CRASH_POINT=prune.mid_delete:$k run -137 "$CKPT" prune "$CK" --keep-last 2
		run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
		[ "$(restart_point "$CK")" = 19 ] || fail "k=$k: restart point moved"
		run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/orig" "$CK"
		# commit entries go newest first: every batch still
		# committed still restores its state
		for b in $("$CKPT" ls -a --json "$CK" | jq -r '.batches[]|select(.committed)|.id'); do
			run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/orig" "$CK" --from "$b" --to "$b" ||
				fail "k=$k: committed batch $b does not restore"
		done
		run -0 --separate-stderr "$CKPT" prune "$CK" --keep-last 2
		[ "$(tree_sum "$CK")" = "$(tree_sum "$BATS_TEST_TMPDIR/clean")" ] ||
			fail "k=$k: rerun ends elsewhere than a clean prune"
	done
}

@test "prune: errors: not a checkpoint (10), bad rule (2)" {
	mkdir "$BATS_TEST_TMPDIR/empty"
	touch "$BATS_TEST_TMPDIR/empty/x"
	run -10 --separate-stderr "$CKPT" prune "$BATS_TEST_TMPDIR/empty" --dry-run
	run -10 --separate-stderr "$CKPT" prune "$BATS_TEST_TMPDIR/missing"
	run -2 --separate-stderr "$CKPT" prune "$CK" --keep-last 0
	run -2 --separate-stderr "$CKPT" prune
}

@test "prune: a job resumed from a pruned directory ends like one never pruned" {
	local d=$BATS_TEST_TMPDIR in=$BATS_TEST_TMPDIR/in.txt
	seq 1 3000 | awk '{ print "w" ($1 * 7919) % 97, "w" ($1 * 104729) % 89 }' > "$in"
	"$CKPT" run wordcount --checkpoint "$d/ref" --input "$in" 2>/dev/null
	"$CKPT" run wordcount --checkpoint "$d/half" --input "$in" --max-batches 70 2>/dev/null
	run -0 --separate-stderr "$CKPT" prune "$d/half" --keep-last 2
	run -0 --separate-stderr "$CKPT" verify --read-state "$d/half"
	"$CKPT" run wordcount --checkpoint "$d/half" --input "$in" 2>/dev/null
	run -0 --separate-stderr "$CKPT" prune "$d/half" --keep-last 5
	# two separate runs: only lineage fields differ, which do not count
	run -0 --separate-stderr "$CKPT" diff "$d/ref" "$d/half" --json
	[ "$(jq -r '"\(.offsets|length) \(.stats.keys_added + .stats.keys_removed + .stats.keys_modified) \(.stats.keys_a > 0) \(.stats.metadata_fields)"' <<<"$output")" = "0 0 true 0" ]
	# the output of the batches kept is the reference's
	"$CKPT" run wordcount --checkpoint "$d/ref" --show-output > "$d/ref.out"
	"$CKPT" run wordcount --checkpoint "$d/half" --show-output > "$d/half.out"
	[ -s "$d/half.out" ]
	[ "$(tail -n "$(wc -l < "$d/half.out")" "$d/ref.out" | md5sum)" = "$(md5sum < "$d/half.out")" ]
}

@test "prune: DStream: keeps the newest generations and the restart file, drops temp" {
	local f=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}/Atuneros--proy_twitter--checkpoint
	[[ -d $f ]] || skip "Spark fixtures not found at $f"
	local d=$BATS_TEST_TMPDIR/ds
	mkdir "$d"
	# the DStream part of the mixed fixture 14, alone
	cp -r "$f"/checkpoint-* "$f"/.checkpoint-* "$f"/receivedBlockMetadata "$d"/
	echo x > "$d/temp"
	run -0 --separate-stderr "$CKPT" prune "$d" --keep-last 2 --dry-run --list-kept
	assert_line --regexp '^keep batch 1621164555000 .*restart point'
	assert_line --regexp '^would remove checkpoint-1621164245000\.bk \('
	assert_line --regexp '^would remove \.checkpoint-1621164245000\.crc \('
	assert_line --regexp '^would remove temp \(.*interrupted checkpoint write$'
	refute_line --regexp '^would remove (checkpoint-16211645[05]|receivedBlockMetadata)'
	run -0 --separate-stderr "$CKPT" prune "$d" --keep-last 2
	assert_output --regexp 'removed 13 file\(s\), .*removed 3 batch\(es\), kept 2'
	run -0 --separate-stderr "$CKPT" verify --read-state "$d"
	assert_output --regexp ': 0 errors, 0 warnings$'
	[ "$("$CKPT" ls --json "$d" | jq -r .restart_point)" = 1621164555000 ]
	[ -n "$(ls "$d/receivedBlockMetadata")" ]
	[ ! -e "$d/checkpoint-1621164545000" ] && [ -e "$d/checkpoint-1621164550000.bk" ]
}
