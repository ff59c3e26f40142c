#!/usr/bin/env bats
# ckpt migrate: --list, previews that write nothing, each migration
# (format both ways, repartition, rename-operator, set-offsets, copy)
# verified with `ckpt verify --read-state` and by resuming the job from
# the result against a run that never migrated, history in metadata,
# and kills before the swap or inside the rewrite that never leave the
# original half-changed.

load helpers

setup() {
	CK=$BATS_TEST_TMPDIR/ck
	IN=$BATS_TEST_TMPDIR/in.txt
	[[ $BATS_TEST_DESCRIPTION == *--help ]] && return 0
	mkckpt "$CK" --batches 12 --keys 40 --partitions 3 --seed 9 \
		--format-version 2 --state-every 2 --snapshot-every 2
	# 2000 lines of 4 words from 150, deterministic
	awk 'BEGIN { s = 7; for (i = 0; i < 2000; i++) { l = "";
		for (j = 0; j < 4; j++) { s = (s * 1103515245 + 12345) % 2147483648;
		l = l (j ? " " : "") "w" int(s / 65536) % 150 } print l } }' > "$IN"
}

tree_sum() {
	(cd "$1" && find . -type f ! -name lock -exec md5sum {} + | sort -k2)
}

# wordcount runs: $1 dir, then extra options
wc_run() {
	local d=$1
	shift
	"$CKPT" run wordcount --checkpoint "$d" --input "$IN" "$@" 2>/dev/null ||
		fail "ckpt run wordcount $d $* failed"
}

# A reference run to the end, and a run stopped after 30 batches.
wc_ref_and_half() {
	wc_run "$BATS_TEST_TMPDIR/ref"
	wc_run "$BATS_TEST_TMPDIR/half" --max-batches 30
}

# The resumed run must end with the reference's output and state.
assert_same_as_ref() {
	wc_run "$1"
	"$CKPT" run wordcount --checkpoint "$BATS_TEST_TMPDIR/ref" --show-output > "$BATS_TEST_TMPDIR/ref.out"
	"$CKPT" run wordcount --checkpoint "$1" --show-output > "$BATS_TEST_TMPDIR/got.out"
	cmp "$BATS_TEST_TMPDIR/ref.out" "$BATS_TEST_TMPDIR/got.out" ||
		fail "output of $1 differs from the reference run"
	[ -s "$BATS_TEST_TMPDIR/ref.out" ]
	# lineage fields (id, creation time, history) do not count; a
	# repartition's partition counts do (exit 3)
	run --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/ref" "$1" --ignore-partitions --json
	[[ $status == 0 || $status == 3 ]] || fail "diff exited $status: $stderr"
	[ "$(jq -r '"\(.stats.keys_added) \(.stats.keys_removed) \(.stats.keys_modified) \(.stats.keys_a)"' <<<"$output")" = "0 0 0 150" ] ||
		fail "state of $1 differs from the reference: $(jq -c .stats <<<"$output")"
	run -0 --separate-stderr "$CKPT" verify --read-state "$1"
}

@test "migrate: --help" {
	run -0 --separate-stderr "$CKPT" migrate --help
	assert_golden migrate help
}

@test "migrate: --list names and explains every migration" {
	run -0 --separate-stderr "$CKPT" migrate --list
	assert_golden migrate list
	run -0 --separate-stderr "$CKPT" migrate --list --json
	[ "$(jq -r '[.migrations[].name]|join(" ")' <<<"$output")" = "format repartition rename-operator set-offsets copy" ]
}

@test "migrate: completion offers the migration names after the path" {
	run -0 "$CKPT" __complete migrate "$CK" re
	assert_line repartition
	assert_line rename-operator
	refute_line format
}

@test "migrate: a preview writes nothing" {
	local before
	before=$(tree_sum "$CK")
	run -0 --separate-stderr "$CKPT" migrate "$CK" repartition --partitions 4
	assert_golden migrate preview
	run -0 --separate-stderr "$CKPT" migrate "$CK" format --to-version 1 --json
	assert_golden migrate preview-json
	[ "$(jq -r '"\(.executed) \(.dest) \(.changes|length)"' <<<"$output")" = "false null 5" ]
	[ "$(tree_sum "$CK")" = "$before" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep ckpt-migrate || true)" ]
}

@test "migrate: format 2 -> 1 -> 2 keeps every batch's state and records history" {
	run -0 --separate-stderr "$CKPT" migrate "$CK" format --to-version 1 --to "$BATS_TEST_TMPDIR/v1" --execute
	assert_line "wrote '$BATS_TEST_TMPDIR/v1' (12 batches, 36 state files)"
	run -0 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/v1"
	[ "$("$CKPT" ls --json "$BATS_TEST_TMPDIR/v1" | jq -r .format_version)" = 1 ]
	[ -z "$(find "$BATS_TEST_TMPDIR/v1/state" -name '*.delta')" ]
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/v1" format --to-version 2 --execute
	run -0 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/v1"
	[ -n "$(find "$BATS_TEST_TMPDIR/v1/state" -name '*.delta')" ]
	for b in 1 5 11; do
		# round trip: only lineage fields (history, created_ms) differ
		run -0 --separate-stderr "$CKPT" diff "$CK" "$BATS_TEST_TMPDIR/v1" --from $b --to $b --json
		[ "$(jq -r '"\(.stats.keys_added) \(.stats.keys_removed) \(.stats.keys_modified) \(.offsets|length) \(.stats.metadata_fields)"' <<<"$output")" = "0 0 0 0 0" ]
	done
	run -0 --separate-stderr "$CKPT" inspect --json "$BATS_TEST_TMPDIR/v1"
	[ "$(jq -r '[.metadata.history[]|"\(.migration):\(.args.to_version)"]|join(" ")' <<<"$output")" = "format:1 format:2" ]
}

@test "migrate: repartition, resumed, ends like a run that never migrated" {
	wc_ref_and_half
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" repartition --partitions 3 --execute
	assert_line "migrated '$BATS_TEST_TMPDIR/half' in place (30 batches, 9 state files)"
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r '"\(.metadata.config.partitions) \(.metadata.operators[0].partitions)"')" = "3 3" ]
	run -0 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/half"
	assert_same_as_ref "$BATS_TEST_TMPDIR/half"
}

@test "migrate: format 2 -> 1, resumed, ends like a run that never migrated" {
	wc_ref_and_half
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" format --to-version 1 --execute
	assert_same_as_ref "$BATS_TEST_TMPDIR/half"
	[ "$("$CKPT" ls --json "$BATS_TEST_TMPDIR/half" | jq -r .format_version)" = 1 ]
}

@test "migrate: rename-operator: the old job refuses the renamed state, renaming back restores it" {
	wc_ref_and_half
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" rename-operator counts words --execute
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r '.metadata.operators[0].name')" = words ]
	# the engine's fingerprint hashes the operator graph
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r .metadata.fingerprint)" = \
	  "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/ref" | jq -r .metadata.fingerprint)" ]
	run -1 --separate-stderr "$CKPT" run wordcount --checkpoint "$BATS_TEST_TMPDIR/half" --input "$IN"
	[[ $stderr == *"operator 0 named 'words', not 'counts'"* ]]
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" rename-operator words counts --execute
	assert_same_as_ref "$BATS_TEST_TMPDIR/half"
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r '[.metadata.history[].args.new]|join(" ")')" = "words counts" ]
}

@test "migrate: set-offsets --to-earliest re-reads the input: totals gain what was read twice" {
	local consumed
	wc_run "$BATS_TEST_TMPDIR/ref"
	wc_run "$BATS_TEST_TMPDIR/half" --max-batches 30
	consumed=$("$CKPT" ls --json "$BATS_TEST_TMPDIR/half" | jq -r .restart_point)
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-earliest --execute
	assert_line --regexp '^batch: new planned batch 30 with offsets .*"start":\{"name":"","seg":0,"off":0,"rec":0\}'
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r '.metadata.history[0].args.batch')" = 30 ]
	run -0 --separate-stderr "$CKPT" verify --read-state "$BATS_TEST_TMPDIR/half"
	wc_run "$BATS_TEST_TMPDIR/half"
	# expected: reference totals plus the totals of the lines batches
	# 0..29 had read (the file source puts 25 lines in a batch here)
	local lines=$(( (consumed + 1) * 25 ))
	head -n "$lines" "$IN" | tr ' ' '\n' | sort | uniq -c | awk '{ print $2, $1 }' > "$BATS_TEST_TMPDIR/extra"
	"$CKPT" inspect --json "$BATS_TEST_TMPDIR/ref" | jq -r '.operators[0].records[]|"\(.key) \(.value)"' | sort > "$BATS_TEST_TMPDIR/refc"
	"$CKPT" inspect --json "$BATS_TEST_TMPDIR/half" | jq -r '.operators[0].records[]|"\(.key) \(.value)"' | sort > "$BATS_TEST_TMPDIR/got"
	awk 'NR == FNR { x[$1] = $2; next } { print $1, $2 + x[$1] }' "$BATS_TEST_TMPDIR/extra" "$BATS_TEST_TMPDIR/refc" | sort > "$BATS_TEST_TMPDIR/want"
	diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "migrate: set-offsets --to-latest skips the rest of the input" {
	wc_run "$BATS_TEST_TMPDIR/half" --max-batches 30
	cp -r "$BATS_TEST_TMPDIR/half" "$BATS_TEST_TMPDIR/before"
	run -2 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-latest --to-earliest
	run -1 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-latest
	[[ $stderr == *"needs --input FILE"* ]]
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-latest --input "$IN" --execute
	assert_line --regexp '"off":[0-9]+,"rec":2000\}'
	wc_run "$BATS_TEST_TMPDIR/half"
	# nothing was left to run: the same restart point, state and offsets;
	# only the history differs, which does not count
	run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/half" --json
	[ "$(jq -r '"\(.from_batch) \(.to_batch) \(.offsets|length) \(.stats.keys_added + .stats.keys_removed + .stats.keys_modified) \(.stats.lineage_fields > 0)"' <<<"$output")" = "29 29 0 0 true" ]
}

@test "migrate: set-offsets --shift-by and --to-time move by records and by time" {
	wc_run "$BATS_TEST_TMPDIR/half" --max-batches 30
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --shift-by 100 --input "$IN"
	assert_line --regexp '"rec":850\}'
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --shift-by -1000 --input "$IN"
	assert_line --regexp '"off":0,"rec":0\}'
	# 25 lines a second of logical time
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-time 4000 --input "$IN"
	assert_line --regexp '"rec":100\}'
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-offset file=100 --input "$IN"
	assert_line --regexp '"rec":[0-9]+\}'
	run -10 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" set-offsets --to-offset kafka=100 --input "$IN"
}

@test "migrate: copy starts a new lineage with the same state" {
	wc_ref_and_half
	run -2 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" copy --execute
	run -0 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" copy --to "$BATS_TEST_TMPDIR/v2" --execute
	local a b
	a=$("$CKPT" ls --json "$BATS_TEST_TMPDIR/half" | jq -r .id)
	b=$("$CKPT" ls --json "$BATS_TEST_TMPDIR/v2" | jq -r .id)
	[ -n "$b" ] && [ "$a" != "$b" ]
	[ "$("$CKPT" inspect --json "$BATS_TEST_TMPDIR/v2" | jq -r '"\(.metadata.history[0].migration) \(.metadata.history[0].from_id)"')" = "copy $a" ]
	# same state and offsets under a new lineage: diff says identical
	run -0 --separate-stderr "$CKPT" diff "$BATS_TEST_TMPDIR/half" "$BATS_TEST_TMPDIR/v2"
	assert_line --regexp '^M id "[0-9a-f]+" -> "[0-9a-f]+" \(lineage: not counted\)$'
	refute_line --regexp '^@@'
	assert_same_as_ref "$BATS_TEST_TMPDIR/v2"
	# the original is still the original lineage, and resumes too
	assert_same_as_ref "$BATS_TEST_TMPDIR/half"
	run -1 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/half" copy --to "$BATS_TEST_TMPDIR/v2" --execute
	[[ $stderr == *"exists"* ]]
}

@test "migrate: killed before the swap, the original is untouched and the temp dir is cleaned later" {
	local before
	before=$(tree_sum "$CK")
	CKPT_CRASH_POINT=migrate.before_swap run -137 "$CKPT" migrate "$CK" repartition --partitions 5 --execute
	[ "$(tree_sum "$CK")" = "$before" ]
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
	[ -n "$(ls -A "$BATS_TEST_TMPDIR" | grep '^\.ck\.ckpt-migrate-')" ]
	run -0 --separate-stderr "$CKPT" migrate "$CK" repartition --partitions 5 --execute
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep '^\.ck\.ckpt-migrate-' || true)" ]
	[ "$("$CKPT" ls --json "$CK" | jq -r '.operators[0].num_partitions')" = 5 ]
}

@test "migrate: killed anywhere in the rewrite, the original is untouched" {
	local before k
	before=$(tree_sum "$CK")
	for k in 1 7 40 90; do
		CKPT_CRASH_POINT=store.before_rename:$k run "$CKPT" migrate "$CK" format --to-version 1 --execute
		[ "$status" -eq 137 ] || [ "$status" -eq 0 ] || fail "k=$k: exit $status"
		[ "$status" -eq 137 ] || break
		[ "$(tree_sum "$CK")" = "$before" ] || fail "k=$k: original changed"
	done
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
}

@test "migrate: errors" {
	run -2 --separate-stderr "$CKPT" migrate "$CK" explode --execute
	[[ $stderr == "ckpt migrate: unknown migration 'explode' (see 'ckpt migrate --list')" ]]
	run -2 --separate-stderr "$CKPT" migrate "$CK" format --to-version 2
	[[ $stderr == *"already format version 2"* ]]
	run -2 --separate-stderr "$CKPT" migrate "$CK" format
	run -2 --separate-stderr "$CKPT" migrate "$CK" repartition --partitions 3
	run -2 --separate-stderr "$CKPT" migrate "$CK" rename-operator counts
	run -10 --separate-stderr "$CKPT" migrate "$CK" rename-operator nosuch x
	run -2 --separate-stderr "$CKPT" migrate "$CK" rename-operator counts sessions
	run -2 --separate-stderr "$CKPT" migrate "$CK" repartition --partitions 4 --to-earliest
	run -10 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/missing" copy --to x
	# an archive name is not silently made a directory
	run -1 --separate-stderr "$CKPT" migrate "$CK" copy --to "$BATS_TEST_TMPDIR/out.tar.zst" --execute
	[[ $stderr == "ckpt migrate: cannot migrate to '$BATS_TEST_TMPDIR/out.tar.zst': archive destinations are not built yet; give a directory" ]]
	[ ! -e "$BATS_TEST_TMPDIR/out.tar.zst" ]
	# in place through a symbolic link would swap the link: refused
	ln -s "$CK" "$BATS_TEST_TMPDIR/link"
	run -1 --separate-stderr "$CKPT" migrate "$BATS_TEST_TMPDIR/link" format --to-version 1 --execute
	[[ $stderr == *"not a directory (a symbolic link?)"* ]]
	[ -d "$CK/state" ] && [ -L "$BATS_TEST_TMPDIR/link" ]
	sleep 60 &
	local pid=$!
	printf '{"host":"%s","pid":%d,"since_ms":1,"what":"ckpt run wordcount"}\n' \
		"$(hostname)" "$pid" > "$CK/lock"
	run -11 --separate-stderr "$CKPT" migrate "$CK" format --to-version 1 --execute
	kill "$pid"
	# a preview needs no lock
	run -0 --separate-stderr "$CKPT" migrate "$CK" format --to-version 1
}

@test "migrate: window and session jobs resume from a repartitioned / v1 copy like a run that never migrated" {
	local job d=$BATS_TEST_TMPDIR
	for job in window session; do
		"$CKPT" run $job --checkpoint "$d/$job-ref" --generate --seed 3 --events 6000 --rate 20 2>/dev/null
		"$CKPT" run $job --checkpoint "$d/$job" --generate --seed 3 --events 6000 --rate 20 --max-batches 12 2>/dev/null
		run -0 --separate-stderr "$CKPT" migrate "$d/$job" repartition --partitions 5 --execute
		run -0 --separate-stderr "$CKPT" migrate "$d/$job" format --to-version 1 --execute
		"$CKPT" run $job --checkpoint "$d/$job" --generate --seed 3 --events 6000 --rate 20 2>/dev/null
		run -0 --separate-stderr "$CKPT" verify --read-state "$d/$job"
		cmp <("$CKPT" run $job --checkpoint "$d/$job-ref" --show-output) \
			<("$CKPT" run $job --checkpoint "$d/$job" --show-output) ||
			fail "$job: output differs"
		run -3 --separate-stderr "$CKPT" diff "$d/$job-ref" "$d/$job" --ignore-partitions --json
		[ "$(jq -r '"\(.offsets|length) \(.stats.keys_added + .stats.keys_removed + .stats.keys_modified) \(.stats.keys_a > 0)"' <<<"$output")" = "0 0 true" ] ||
			fail "$job: state differs: $(jq -c .stats <<<"$output")"
	done
}
