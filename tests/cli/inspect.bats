#!/usr/bin/env bats
# ckpt inspect: metadata, batch, schema and state; --op/--partition/
# --key/--limit/--version/--batch; --hex; text and --json; exit codes.

load helpers

setup() {
	CK=$BATS_TEST_TMPDIR/ck
	# --help needs no checkpoint (and must work without mkckpt).
	# Golden tests use --compress none: compressed bytes (and so sizes
	# and checksums) may differ between zstd versions.
	local compress=zstd
	[[ $BATS_TEST_DESCRIPTION != *"(golden)"* ]] || compress=none
	[[ $BATS_TEST_DESCRIPTION == *--help ]] ||
		mkckpt "$CK" --batches 5 --keys 30 --partitions 2 --seed 11 \
			--compress "$compress"
}

@test "inspect: --help" {
	run -0 --separate-stderr "$CKPT" inspect --help
	assert_golden inspect help
	# Its --version is the state version, not the program's.
	refute_line --partial "print the version and exit"
}

@test "inspect: text output of the restart point (golden)" {
	run -0 --separate-stderr "$CKPT" inspect "$CK"
	assert_golden inspect text
	assert_line "metadata:"
	assert_line "batch 4 (restart point):"
	assert_line --regexp '^operator 0: '
}

@test "inspect: --json output (golden)" {
	run -0 --separate-stderr "$CKPT" inspect --json "$CK"
	assert_golden inspect json
	[ "$(jq -r '.batch.batch' <<<"$output")" = 4 ]
	[ "$(jq -r '.operators[0].truncated' <<<"$output")" = false ]
}

@test "inspect: text shows 20 records per operator by default, --limit changes it" {
	local total
	total=$("$CKPT" inspect --json --op 0 "$CK" | jq '.operators[0].records | length')
	[ "$total" -gt 20 ]
	run -0 --separate-stderr "$CKPT" inspect --op 0 "$CK"
	[ "$(grep -cE '^    \[[0-9]+\] ' <<<"$output")" -eq 20 ]
	assert_line "    ... more records (use --limit 0 to show all)"
	run -0 --separate-stderr "$CKPT" inspect --op 0 --limit 5 "$CK"
	[ "$(grep -cE '^    \[[0-9]+\] ' <<<"$output")" -eq 5 ]
	run -0 --separate-stderr "$CKPT" inspect --op 0 -n 0 "$CK"
	[ "$(grep -cE '^    \[[0-9]+\] ' <<<"$output")" -eq "$total" ]
	refute_line --partial "more records"
}

@test "inspect: --json shows every record unless --limit" {
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 "$CK"
	[ "$(jq '.operators[0].truncated' <<<"$output")" = false ]
	# mkckpt deletes a key at one batch in 13: most of the 30 are live.
	[ "$(jq '.operators[0].records | length' <<<"$output")" -gt 20 ]
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 --limit 7 "$CK"
	[ "$(jq '.operators[0].records | length' <<<"$output")" -eq 7 ]
	[ "$(jq '.operators[0].truncated' <<<"$output")" = true ]
}

@test "inspect: --partition selects one partition" {
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 --partition 1 "$CK"
	[ "$(jq '[.operators[0].records[].partition] | unique' -c <<<"$output")" = "[1]" ]
}

@test "inspect: --key finds one record, as a string or as JSON text" {
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 "$CK"
	local key
	key=$(jq -c '.operators[0].records[3].key' <<<"$output")
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 --key "$key" "$CK"
	[ "$(jq '.operators[0].records | length' <<<"$output")" -eq 1 ]
	[ "$(jq -c '.operators[0].records[0].key' <<<"$output")" = "$key" ]
	# The same JSON with other spacing matches too.
	run -0 --separate-stderr "$CKPT" inspect --json --op 0 --key " $key " "$CK"
	[ "$(jq '.operators[0].records | length' <<<"$output")" -eq 1 ]
	if [[ $key == \"* ]]; then
		run -0 --separate-stderr "$CKPT" inspect --op 0 --key "$(jq -r . <<<"$key")" "$CK"
		[ "$(grep -cE '^    \[[0-9]+\] ' <<<"$output")" -eq 1 ]
	fi
}

@test "inspect: an unknown key exits 10" {
	run -10 --separate-stderr "$CKPT" inspect --key no-such-key-anywhere "$CK"
	[[ $stderr == "ckpt inspect: no record with key 'no-such-key-anywhere'" ]]
}

@test "inspect: an unknown operator exits 10 naming it" {
	run -10 --separate-stderr "$CKPT" inspect --op nosuchop "$CK"
	assert_output ""
	[[ $stderr == "ckpt inspect: no operator 'nosuchop' in "* ]]
	run -10 --separate-stderr "$CKPT" inspect --json --op 99 "$CK"
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
}

@test "inspect: an unknown partition exits 10 naming it" {
	run -10 --separate-stderr "$CKPT" inspect --op 0 --partition 7 "$CK"
	[[ $stderr == *"has no partition 7 (it has 2)" ]]
}

@test "inspect: an unknown batch exits 10" {
	run -10 --separate-stderr "$CKPT" inspect --batch 999 "$CK"
	[[ $stderr == "ckpt inspect: "*999* ]]
}

@test "inspect: --batch shows another batch" {
	run -0 --separate-stderr "$CKPT" inspect --json --batch 2 "$CK"
	[ "$(jq -r '.batch.batch' <<<"$output")" = 2 ]
	run -0 --separate-stderr "$CKPT" inspect --batch 2 "$CK"
	assert_line "batch 2:"
}

@test "inspect: --hex dumps a state file annotated with its regions" {
	local f
	f=$(cd "$CK" && find state -type f | sort | head -1)
	[ -n "$f" ]
	run -0 --separate-stderr "$CKPT" inspect --hex "$f" "$CK"
	assert_line --index 0 "file $f, $(stat -c %s "$CK/$f") bytes"
	assert_line --regexp '^== .* at 0, [0-9]+ bytes'
	assert_line --regexp '^00000000  ([0-9a-f]{2} ){8} ([0-9a-f]{2} ){8} \|.{16}\|$'
	refute_line --partial "[BAD]"
	# Every byte is dumped once.
	local dumped
	dumped=$(grep -E '^[0-9a-f]{8}  ' <<<"$output" | cut -c11-58 | tr -s ' ' '\n' | grep -c .)
	[ "$dumped" -eq "$(stat -c %s "$CK/$f")" ]
}

@test "inspect: --hex --json lists the regions" {
	local f
	f=$(cd "$CK" && find state -type f | sort | head -1)
	run -0 --separate-stderr "$CKPT" inspect --json --hex "$f" "$CK"
	[ "$(jq -r .file <<<"$output")" = "$f" ]
	[ "$(jq '.regions | length > 1' <<<"$output")" = true ]
	[ "$(jq '.regions[0].offset' <<<"$output")" = 0 ]
	[ "$(jq '[.regions[].ok] | all(. != false)' <<<"$output")" = true ]
}

@test "inspect: --hex marks a damaged block BAD" {
	local f size
	f=$(cd "$CK" && find state -type f | sort | head -1)
	size=$(stat -c %s "$CK/$f")
	flip_byte "$CK/$f" $((size / 2))
	run --separate-stderr "$CKPT" inspect --hex "$f" "$CK"
	assert_line --partial "[BAD]"
}

@test "inspect: --hex of a missing file exits 10" {
	run -10 --separate-stderr "$CKPT" inspect --hex no/such/file "$CK"
	[[ $stderr == "ckpt inspect: "* ]]
}

@test "inspect: missing and foreign paths exit 10" {
	run -10 --separate-stderr "$CKPT" inspect "$BATS_TEST_TMPDIR/nope"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -10 --separate-stderr "$CKPT" inspect "$BATS_TEST_TMPDIR/empty"
	echo x > "$BATS_TEST_TMPDIR/file"
	run -10 --separate-stderr "$CKPT" inspect "$BATS_TEST_TMPDIR/file"
}

@test "inspect: bad flags exit 2" {
	run -2 --separate-stderr "$CKPT" inspect --batch x "$CK"
	[[ $stderr == "ckpt inspect: option '--batch' expects an integer, got 'x'"* ]]
	run -2 --separate-stderr "$CKPT" inspect --limit -1 "$CK"
	[[ $stderr == "ckpt inspect: option '--limit' must not be negative"* ]]
	run -2 --separate-stderr "$CKPT" inspect --op
	[[ $stderr == "ckpt inspect: option '--op' requires a value"* ]]
	run -2 --separate-stderr "$CKPT" inspect --nope "$CK"
	run -2 --separate-stderr "$CKPT" inspect
}

@test "inspect: a read error in the middle of --json still prints one JSON document" {
	local f size
	f=$(cd "$CK" && find state/1 -name '*.snapshot' | sort | tail -1)
	size=$(stat -c %s "$CK/$f")
	flip_byte "$CK/$f" $((size / 2))
	run -1 --separate-stderr "$CKPT" inspect --json "$CK"
	[ -z "$stderr" ]
	[ "$(jq -r .error.code <<<"$output")" = checksum ]
	[[ $(jq -r .error.message <<<"$output") == *"$f"* ]]
	# What was printed before the error is still there.
	[ "$(jq -r .operators[0].name <<<"$output")" = counts ]
}

@test "inspect: every --json field is documented in ckpt-inspect(1)" {
	# metadata and batch are the format driver's; records hold state.
	"$CKPT" inspect --json "$CK" |
		jq 'del(.metadata, .batch) | .operators[].records[] |= {partition, key: 0, value: 0}' |
		json_keys | assert_keys_documented inspect
	local f
	f=$(cd "$CK" && find state -type f | sort | head -1)
	"$CKPT" inspect --json --hex "$f" "$CK" | json_keys | assert_keys_documented inspect
}

@test "inspect: --version shows an older state, an unknown version exits 10" {
	run -0 --separate-stderr "$CKPT" inspect --json --op counts --version 1 "$CK"
	[ "$(jq .operators[0].version <<<"$output")" = 1 ]
	local old=$output
	run -0 --separate-stderr "$CKPT" inspect --json --op counts "$CK"
	[ "$(jq .operators[0].version <<<"$output")" = 4 ]
	[ "$(jq -c .operators[0].records <<<"$old")" != "$(jq -c .operators[0].records <<<"$output")" ]
	local restart=$output
	run -0 --separate-stderr "$CKPT" inspect --json --op counts --version 4 "$CK"
	[ "$(jq -c .operators[0].records <<<"$restart")" = "$(jq -c .operators[0].records <<<"$output")" ]
	run -10 --separate-stderr "$CKPT" inspect --op counts --version 99 "$CK"
	[ "$stderr" = "ckpt inspect: operator 'counts' has no state version 99 (it has 0..4)" ]
}

@test "inspect: --batch before the first state checkpoint shows no state" {
	local ck=$BATS_TEST_TMPDIR/sparse
	mkckpt "$ck" --batches 6 --keys 5 --partitions 1 --state-every 3
	run -0 --separate-stderr "$CKPT" inspect --batch 1 --op counts "$ck"
	assert_line "  state at batch 1:"
	assert_line "    (no state)"
	run -0 --separate-stderr "$CKPT" inspect --json --batch 1 --op counts "$ck"
	[ "$(jq '.operators[0].records | length' <<<"$output")" -eq 0 ]
	run -0 --separate-stderr "$CKPT" inspect --json --batch 4 --op counts "$ck"
	[ "$(jq '.operators[0].version' <<<"$output")" -eq 2 ]
	[ "$(jq '.operators[0].records | length' <<<"$output")" -gt 0 ]
}

@test "inspect: --hex output of a snapshot (golden)" {
	local f
	f=$(cd "$CK" && find state/0/0 -name '*.snapshot' | sort | head -1)
	run -0 --separate-stderr "$CKPT" inspect --hex "$f" "$CK"
	assert_golden inspect hex
	run -0 --separate-stderr "$CKPT" inspect --json --hex "$f" "$CK"
	assert_golden inspect hex-json
}

@test "inspect: a native job's batch has one source, named by its kind" {
	printf 'a b\nb c\n' > "$BATS_TEST_TMPDIR/in.txt"
	run -0 "$CKPT" run wordcount -c "$CK.run" -i "$BATS_TEST_TMPDIR/in.txt"
	run -0 --separate-stderr "$CKPT" inspect --json "$CK.run"
	run -0 jq -c '[.batch.sources[] | .name, (.offset | has("off"))]' <<<"$output"
	assert_output '["file",true]'
}

@test "inspect: an uncommitted batch is labelled so" {
	local ck=$BATS_TEST_TMPDIR/uc
	mkckpt "$ck" --batches 3 --keys 5 --partitions 1 --seed 2 --uncommitted
	run -0 --separate-stderr "$CKPT" inspect --batch 3 "$ck"
	assert_line "batch 3 (uncommitted):"
	run -0 --separate-stderr "$CKPT" inspect --batch 1 "$ck"
	assert_line "batch 1:"
	run -0 --separate-stderr "$CKPT" inspect --json --batch 3 "$ck"
	[ "$(jq .batch.committed <<<"$output")" = false ]
}
